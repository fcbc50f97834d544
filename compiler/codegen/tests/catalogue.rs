//! The builtin catalogue (`ebpfc_stdlib::catalogue`) against the code the compiler
//! generates: every builtin function and variable has a sample program here, and the
//! BPF helpers the sample's IR calls must be ones the catalogue lists for that builtin
//! (or the map and ring buffer helpers every program uses).

mod corpus;

use ebpfc_compiler::ir::Inst;
use ebpfc_stdlib::catalogue::{self, FUNCTIONS, PLUMBING, VARIABLES};
use std::collections::BTreeSet;

/// A program using each builtin, by the builtin's catalogue name.
const SAMPLES: &[(&str, &str)] = &[
    ("printf", r#"BEGIN { printf("%d\n", 1); }"#),
    ("errorf", r#"BEGIN { errorf("bad %d", 1); }"#),
    ("warnf", r#"BEGIN { warnf("odd %d", 1); }"#),
    ("debugf", r#"BEGIN { debugf("x %d %s", 1, "y"); }"#),
    ("print", "BEGIN { @m = 1; print(@m); print(5); }"),
    ("time", r#"BEGIN { time("%H\n"); }"#),
    ("strftime", r#"BEGIN { printf("%s\n", strftime("%H", 0)); }"#),
    (
        "join",
        "tracepoint:syscalls:sys_enter_openat { join((int8 **)args->filename); }",
    ),
    (
        "str",
        "tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = 1; }",
    ),
    (
        "buf",
        r#"tracepoint:syscalls:sys_enter_openat { printf("%r\n", buf(args->filename, 8)); }"#,
    ),
    ("strncmp", r#"BEGIN { @ = strncmp("ab", "ac", 1); }"#),
    ("strcontains", r#"BEGIN { @ = strcontains("ab", "b"); }"#),
    ("strlen", r#"BEGIN { @ = strlen("abc"); }"#),
    ("ksym", "BEGIN { @ = ksym(0); }"),
    ("usym", "BEGIN { @ = usym(0); }"),
    ("kaddr", r#"BEGIN { @ = kaddr("vfs_read"); }"#),
    ("uaddr", r#"uprobe:libc:getpid { @ = uaddr("environ"); }"#),
    ("ntop", "BEGIN { @ = ntop(0x0100007f); }"),
    ("pton", r#"BEGIN { @ = ntop(pton("::1")); }"#),
    ("kstack", "BEGIN { @[kstack(3)] = 1; }"),
    ("ustack", "BEGIN { @[ustack(perf, 3)] = 1; }"),
    ("cgroupid", r#"BEGIN { @ = cgroupid("/sys/fs/cgroup"); }"#),
    ("cgroup_path", "BEGIN { @ = cgroup_path(1); }"),
    ("strerror", "BEGIN { @ = strerror(2); }"),
    (
        "macaddr",
        "tracepoint:syscalls:sys_enter_openat { @ = macaddr(((struct ethhdr *)args->filename)->h_dest); }",
    ),
    (
        "path",
        "iter:task_file { @[path(ctx->file->f_path)] = count(); }",
    ),
    ("reg", r#"profile:hz:99 { @ = reg("ip"); }"#),
    (
        "uptr",
        "tracepoint:syscalls:sys_enter_openat { @ = uptr(args->filename); }",
    ),
    ("kptr", "BEGIN { @ = kptr((int8 *)8); }"),
    ("bswap", "BEGIN { @ = bswap((uint32)7); }"),
    ("cat", r#"BEGIN { cat("/proc/loadavg"); }"#),
    ("exit", "BEGIN { exit(); }"),
    ("unwatch", "BEGIN { unwatch(0x1000); }"),
    ("has_key", "BEGIN { @m[1] = 1; @ = has_key(@m, 1); }"),
    ("len", "BEGIN { @m[1] = 1; @n = len(@m); }"),
    ("delete", "BEGIN { @m[1] = 1; delete(@m[1]); }"),
    ("clear", "BEGIN { @m[1] = 1; clear(@m); }"),
    ("zero", "BEGIN { @m[1] = 1; zero(@m); }"),
    ("system", r#"BEGIN { system("true"); }"#),
    ("signal", r#"BEGIN { signal("SIGUSR1"); }"#),
    ("override", "kprobe:vfs_read { override(-1); }"),
    ("count", "BEGIN { @ = count(); }"),
    ("sum", "BEGIN { @ = sum(1); }"),
    ("avg", "BEGIN { @ = avg(1); }"),
    ("min", "BEGIN { @ = min(1); }"),
    ("max", "BEGIN { @ = max(1); }"),
    ("stats", "BEGIN { @ = stats(1); }"),
    ("hist", "BEGIN { @ = hist(1); }"),
    ("lhist", "BEGIN { @ = lhist(1, 0, 10, 1); }"),
    ("pid", "BEGIN { @ = pid; @i = pid(init); @c = pid(curr_ns); }"),
    ("tid", "BEGIN { @ = tid(); @i = tid(init); }"),
    ("ppid", "BEGIN { @ = ppid; @c = ppid(curtask); }"),
    ("pcomm", "BEGIN { @ = pcomm(); @c = pcomm(curtask->real_parent); }"),
    ("usermode", "profile:hz:99 { @ = usermode; }"),
    ("probetype", "BEGIN { @ = probetype; }"),
    ("has_cpid", "BEGIN { @ = has_cpid; }"),
    ("uid", "BEGIN { @ = uid; }"),
    ("gid", "BEGIN { @ = gid; }"),
    ("username", "BEGIN { @ = username; }"),
    ("comm", "BEGIN { @ = comm; }"),
    (
        "nsecs",
        "BEGIN { @ = nsecs; @b = nsecs(boot); @t = nsecs(tai); @m = nsecs(monotonic); }",
    ),
    ("elapsed", "BEGIN { @ = elapsed; }"),
    ("cpu", "BEGIN { @ = cpu; }"),
    ("ncpus", "BEGIN { @ = ncpus; }"),
    ("numaid", "BEGIN { @ = numaid; }"),
    ("jiffies", "BEGIN { @ = jiffies; }"),
    ("rand", "BEGIN { @ = rand; }"),
    ("cgroup", "BEGIN { @ = cgroup; }"),
    ("curtask", "BEGIN { @ = curtask; }"),
    ("ctx", "iter:task { @ = ctx; }"),
    ("cpid", "BEGIN { @ = 1; }"),
    ("retval", "kretprobe:vfs_read { @ = retval; }"),
    ("func", "kprobe:vfs_read { @[func] = 1; }"),
    ("probe", "BEGIN { @[probe] = 1; }"),
    (
        "args",
        "tracepoint:syscalls:sys_enter_openat { @ = args->flags; }",
    ),
    ("arg0", "kprobe:vfs_read { @ = arg0 + arg2; }"),
    ("sarg0", "kprobe:vfs_read { @ = sarg0 + sarg1; }"),
];

/// Every helper the program's IR calls, by name.
fn helpers_called(source: &str) -> Result<BTreeSet<&'static str>, String> {
    let module = corpus::compile_allowing(source, true)?;
    let calls = module
        .functions
        .iter()
        .flat_map(|f| &f.blocks)
        .flat_map(|b| &b.insts)
        .filter_map(|inst| match inst {
            Inst::Call { name, .. } => Some(*name),
            _ => None,
        });
    Ok(calls.collect())
}

fn sample(name: &str) -> Option<&'static str> {
    SAMPLES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

#[test]
fn every_builtin_has_a_sample() {
    let names = FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(VARIABLES.iter().map(|v| v.name));
    let missing: Vec<&str> = names.filter(|n| sample(n).is_none()).collect();
    assert!(missing.is_empty(), "no sample for {missing:?}");
}

#[test]
fn builtins_call_only_the_helpers_the_catalogue_lists() {
    let mut failures = Vec::new();
    for (name, program) in SAMPLES {
        let listed = match (catalogue::function(name), catalogue::variable(name)) {
            (Some(f), _) => f.helpers,
            (None, Some(v)) => v.helpers,
            (None, None) => panic!("{name} is not in the catalogue"),
        };
        let called = match helpers_called(program) {
            Ok(called) => called,
            Err(e) => {
                failures.push(format!("{name}: {program} does not compile: {e}"));
                continue;
            }
        };
        let extra: Vec<&str> = called
            .into_iter()
            .filter(|h| !listed.contains(h) && !PLUMBING.contains(h))
            .collect();
        if !extra.is_empty() {
            failures.push(format!("{name} calls {extra:?}, not in the catalogue"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
