//! Builtins and values end to end on the live kernel, each program's output compared
//! with what bpftrace prints for it: tuples, `print(value)`, string functions and
//! ternaries, `ntop`, `buf`, `bswap`, `system` behind `--unsafe`, `for` over maps and
//! `len()` (the kernel iterates a hash map in no fixed order: those lines are sorted).

mod common;

use common::*;

/// Runs `program` (which exits by itself) and returns its stdout.
fn run(args: &[&str], program: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["-e", program]);
    let out = ebpfc(&all);
    assert!(out.status.success(), "{program}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn tuples_are_values() {
    if !kernel_available("tuples_are_values") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $t = (1, "abc", -3); printf("%d %s %d\n", $t.0, $t.1, $t.2); @t = (7, "x"); @k[1, "a"] = (2, "b"); exit(); }"#,
    );
    assert_eq!(out, "1 abc -3\n\n\n@k[1, a]: (2, b)\n@t: (7, x)\n");
}

#[test]
fn print_takes_plain_values() {
    if !kernel_available("print_takes_plain_values") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { print(5); print(-2); print("hi"); print((1, "x")); exit(); }"#,
    );
    assert_eq!(out, "5\n-2\nhi\n(1, x)\n\n\n");
}

#[test]
fn string_functions_and_ternaries() {
    if !kernel_available("string_functions_and_ternaries") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $x = 5; printf("%d %d %s %s\n", strncmp("abcd", "abxx", 2), strncmp("abcd", "abxx", 3), $x > 3 ? "big" : "small", $x > 9 ? "big" : "small"); exit(); }"#,
    );
    assert_eq!(out, "0 1 big small\n\n\n");
}

#[test]
fn addresses_bytes_and_swaps() {
    if !kernel_available("addresses_bytes_and_swaps") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { printf("%s %s %x %x\n", ntop(0x0100007f), ntop(2, 0x0101a8c0), bswap((uint16)0x1234), bswap((uint32)0x12345678)); printf("%r\n", buf("ab\n", 3)); exit(); }"#,
    );
    assert_eq!(out, "127.0.0.1 192.168.1.1 3412 78563412\nab\\x0a\n\n\n");
}

#[test]
fn system_needs_unsafe() {
    if !kernel_available("system_needs_unsafe") {
        return;
    }
    let program = r#"BEGIN { system("echo ran %d", 42); exit(); }"#;
    let refused = ebpfc(&["-e", program]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("run with --unsafe"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(run(&["--unsafe"], program), "ran 42\n\n\n");
}

#[test]
fn macros_and_functions_expand_in_place() {
    if !kernel_available("macros_and_functions_expand_in_place") {
        return;
    }
    let out = run(
        &[],
        r#"macro add1(x) { x + 1 } macro bump(@m, $v) { @m += $v; } fn sgn($x: int64): int64 { if ($x < 0) { return -1; } return 1; } BEGIN { bump(@c, 3); bump(@c, 2); printf("%d %d %d %d\n", add1(2), add1(add1(5)), sgn(-5), sgn(7)); exit(); }"#,
    );
    assert_eq!(out, "3 7 -1 1\n\n\n@c: 5\n");
    let recursive = ebpfc(&[
        "--check",
        "-e",
        "fn f($x: int64): int64 { return f($x); } BEGIN { f(1); }",
    ]);
    assert!(stderr(&recursive).contains("recursion is not allowed"));
}

#[test]
fn map_declarations_and_config_size_maps() {
    if !kernel_available("map_declarations_and_config_size_maps") {
        return;
    }
    let lru = run(
        &[],
        "let @m = lruhash(2); BEGIN { @m[1] = 1; @m[2] = 2; @m[3] = 3; exit(); }",
    );
    assert_eq!(lru, "\n\n@m[2]: 2\n@m[3]: 3\n");
    let capped = ebpfc(&[
        "-e",
        "config = { max_map_keys = 2 } BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; @c[1] = count(); @c[2] = count(); @c[3] = count(); exit(); }",
    ]);
    assert_eq!(capped.status.code(), Some(1), "{}", stderr(&capped));
    assert_eq!(
        stdout(&capped),
        "\n\n@c[1]: 1\n@c[2]: 1\n@x[1]: 1\n@x[2]: 2\n"
    );
    let err = stderr(&capped);
    assert!(
        err.contains("error: map @x was full: 1 update(s) were dropped"),
        "{err}"
    );
    assert!(
        err.contains("error: map @c was full: 1 update(s) were dropped"),
        "{err}"
    );
}

#[test]
fn strcontains_finds_substrings() {
    if !kernel_available("strcontains_finds_substrings") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $n = "lo"; printf("%d %d %d %d\n", strcontains("hello", "ell"), strcontains("hello", "elx"), strcontains("hello", ""), strcontains("hello", $n)); exit(); }"#,
    );
    assert_eq!(out, "1 0 1 1\n\n\n");
}

#[test]
fn printf_records_larger_than_the_stack_are_built_in_scratch() {
    if !kernel_available("printf_records_larger_than_the_stack_are_built_in_scratch") {
        return;
    }
    let arg = r#"str(args->filename)"#;
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcbig\"/ {{ printf(\"%s|%s|%s|%s|%s|%s|%s|%s\\n\", {a}, {a}, {a}, {a}, {a}, {a}, {a}, comm); }}\n{READY}",
        a = arg
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcbig", "/etc/hostname", 1)
            .join()
            .unwrap()
    });
    let line = "/etc/hostname|".repeat(7) + "ebpfcbig\n";
    assert_eq!(out, format!("{line}\n\n@armed: 1\n"));
}

#[test]
fn str_takes_a_runtime_length_and_uprobes_read_user_memory() {
    if !kernel_available("str_takes_a_runtime_length_and_uprobes_read_user_memory") {
        return;
    }
    let out = ebpfc(&[
        "-c",
        "/bin/echo hello",
        "-e",
        r#"tracepoint:syscalls:sys_enter_write /pid == cpid/ { printf("[%s] [%s]\n", str(args->buf, args->count), str(args->buf, 2)); }"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("[hello\n] [he]\n"),
        "{}",
        stdout(&out)
    );
    let getenv = ebpfc(&[
        "-c",
        "/bin/date",
        "-e",
        r#"uprobe:libc:getenv /pid == cpid/ { @[str(arg0)] = count(); }"#,
    ]);
    assert!(getenv.status.success(), "{}", stderr(&getenv));
    assert!(
        stdout(&getenv).contains("@[LC_ALL]: "),
        "{}",
        stdout(&getenv)
    );
}

#[test]
fn usdt_arguments_and_iterator_context() {
    if !kernel_available("usdt_arguments_and_iterator_context") {
        return;
    }
    // arg1 of python:function__entry is the function's name, in user memory.
    let usdt = ebpfc(&[
        "-c",
        "/usr/bin/python3 -c pass",
        "-e",
        "usdt:/usr/bin/python3:python:function__entry { @[str(arg1)] = count(); }",
    ]);
    assert!(usdt.status.success(), "{}", stderr(&usdt));
    let out = stdout(&usdt);
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("@[")?.split_once("]: ").map(|(k, _)| k))
        .collect();
    assert!(!names.is_empty(), "{out}");
    let is_name = |n: &str| {
        let n = n.trim_start_matches('<').trim_end_matches('>');
        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    assert!(names.iter().all(|n| is_name(n)), "{out}");
    let tasks = run(
        &[],
        "iter:task { if (ctx->task->pid == ctx->task->tgid) { @[ctx->task->comm] = count(); } }",
    );
    assert!(tasks.contains("@[kthreadd]: 1"), "{tasks}");
}

#[test]
fn pton_str_truncation_params_and_tuple_keys() {
    if !kernel_available("pton_str_truncation_params_and_tuple_keys") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { printf("%s %s [%s] [%s]\n", ntop(pton("10.1.2.3")), ntop(pton("::1")), str("abcdef", 3), str($1)); @[(1, "a")] = 1; exit(); }"#,
    );
    assert_eq!(out, "10.1.2.3 ::1 [abc] []\n\n\n@[1, a]: 1\n");
    let mut args = vec!["-e"];
    let program = r#"BEGIN { printf("[%s]\n", str($1)); exit(); }"#;
    args.push(program);
    args.push("7");
    let with_param = ebpfc(&args);
    assert_eq!(stdout(&with_param), "[7]\n\n\n");
    let refused = ebpfc(&["--check", "-e", "BEGIN { @l = lhist(5, 0, 10, 20); }"]);
    assert!(stderr(&refused).contains("lhist() step 20 is larger than the range 0..10"));
}

#[test]
fn variables_hold_structs_in_kernel_memory() {
    if !kernel_available("variables_hold_structs_in_kernel_memory") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $c = curtask->cred->uid; $s = curtask->se; printf("%d %d\n", $c.val, $s.on_rq <= 1); exit(); }"#,
    );
    assert_eq!(out, "0 1\n\n\n");
}

#[test]
fn username_prints_the_users_name() {
    if !kernel_available("username_prints_the_users_name") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { printf("%s\n", username); @[username] = count(); exit(); }"#,
    );
    assert_eq!(out, "root\n\n\n@[root]: 1\n");
}

/// The first `n` lines of `out` sorted, and the rest of `out`.
fn sorted_head(out: &str, n: usize) -> (Vec<&str>, String) {
    let mut lines: Vec<&str> = out.split_inclusive('\n').collect();
    let rest = lines.split_off(n.min(lines.len())).concat();
    lines.sort_unstable();
    (lines, rest)
}

#[test]
fn for_visits_every_entry_and_len_counts_them() {
    if !kernel_available("for_visits_every_entry_and_len_counts_them") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { @m[1] = 10; @m[2] = 20; @m[3] = 30; $sum = 0; for ($kv : @m) { $sum += $kv.1; printf("%d %d\n", $kv.0, $kv.1); } printf("sum %d len %d\n", $sum, len(@m)); exit(); }"#,
    );
    let (entries, rest) = sorted_head(&out, 3);
    assert_eq!(entries, ["1 10\n", "2 20\n", "3 30\n"], "{out}");
    assert_eq!(rest, "sum 60 len 3\n\n\n@m[1]: 10\n@m[2]: 20\n@m[3]: 30\n");
    let counted = run(
        &[],
        "BEGIN { @c[1] = count(); @c[2] = count(); @e[1] = 1; delete(@e[1]); printf(\"%d %d\\n\", len(@c), len(@e)); exit(); }",
    );
    // @e is empty: it prints a bare line.
    assert_eq!(counted, "2 0\n\n\n@c[1]: 1\n@c[2]: 1\n\n");
}

#[test]
fn for_reads_string_and_tuple_keys() {
    if !kernel_available("for_reads_string_and_tuple_keys") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { @s["ab"] = 1; @s["cd"] = 2; @t[1, "a"] = (5, "x"); $last = "none"; for ($kv : @s) { printf("%s=%d\n", $kv.0, $kv.1); } for ($kv : @t) { printf("%d %s %d %s\n", $kv.0.0, $kv.0.1, $kv.1.0, $kv.1.1); print($kv); $last = $kv.0.1; } printf("last %s\n", $last); exit(); }"#,
    );
    let (entries, rest) = sorted_head(&out, 2);
    assert_eq!(entries, ["ab=1\n", "cd=2\n"], "{out}");
    assert_eq!(
        rest,
        "1 a 5 x\n((1, a), (5, x))\nlast a\n\n\n@s[ab]: 1\n@s[cd]: 2\n@t[1, a]: (5, x)\n"
    );
}

#[test]
fn for_bodies_break_continue_nest_and_exit() {
    if !kernel_available("for_bodies_break_continue_nest_and_exit") {
        return;
    }
    let counts = run(
        &[],
        r#"BEGIN { @m[1] = 1; @m[2] = 2; @m[3] = 3; @m[4] = 4; $odd = 0; $seen = 0; for ($kv : @m) { $seen++; if ($kv.0 % 2 == 0) { continue; } $odd += $kv.1; } $n = 0; for ($kv : @m) { $n++; if ($n == 2) { break; } } $pairs = 0; for ($a : @m) { for ($b : @m) { if ($a.0 < $b.0) { $pairs++; } } } $bound = 3; $steps = 0; for ($kv : @m) { $i = 0; while ($i < $bound) { $i++; } $steps += $i; } printf("%d %d %d %d %d\n", $odd, $seen, $n, $pairs, $steps); exit(); }"#,
    );
    // The loop bound is only read by the body: the verifier knows it and bounds `while`.
    assert!(counts.starts_with("4 4 2 6 12\n\n\n"), "{counts}");
    let stopped = run(
        &[],
        r#"BEGIN { @m[1] = 1; @m[2] = 2; @m[3] = 3; for ($kv : @m) { if ($kv.0 == 2) { printf("stop %d\n", $kv.1); exit(); } } printf("after\n"); }"#,
    );
    assert_eq!(stopped, "stop 2\n\n\n@m[1]: 1\n@m[2]: 2\n@m[3]: 3\n");
}

#[test]
fn for_bodies_read_the_probe_context() {
    if !kernel_available("for_bodies_read_the_probe_context") {
        return;
    }
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcloop\"/ {{ @k[1] = 1; for ($kv : @k) {{ @f[str(args->filename), $kv.0] = count(); }} }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcloop", "/etc/hostname", 3)
            .join()
            .unwrap()
    });
    assert_eq!(out, "\n\n@armed: 1\n@f[/etc/hostname, 1]: 3\n@k[1]: 1\n");
}

#[test]
fn for_objects_load_in_bpftool() {
    if !kernel_available("for_objects_load_in_bpftool")
        || !tool_available("for_objects_load_in_bpftool", "bpftool")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("loops.o");
    let out = ebpfc(&[
        "--emit-elf",
        object.to_str().unwrap(),
        "-e",
        r#"BEGIN { @m[1] = 2; $t = 0; for ($kv : @m) { $t += $kv.1; if ($t > 9) { break; } } printf("%d %d\n", $t, len(@m)); exit(); }"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let load = bpftool_loadall(&object, "loops");
    let log = stderr(&load);
    assert!(load.status.success(), "bpftool: {log}");
    assert!(!log.contains("missing .BTF.ext"), "{log}");
    let run = ebpfc(&[object.to_str().unwrap()]);
    assert_eq!(stdout(&run), "2 1\n\n\n@m[1]: 2\n", "{}", stderr(&run));
}
