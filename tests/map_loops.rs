//! `for ($kv : @map)` and `len(@map)` end to end on the live kernel: every entry
//! visited, keys and values of every shape, `break`/`continue`/`exit` in the body, the
//! probe context inside it, and objects other loaders accept. The kernel iterates a hash
//! map in no fixed order, so lines printed from a loop are compared sorted.

mod common;

use common::*;

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
