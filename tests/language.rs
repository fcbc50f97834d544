//! Builtins and values end to end on the live kernel, each program's output compared
//! with what bpftrace prints for it: tuples, `print(value)`, string functions and
//! ternaries, `ntop`, `buf`, `bswap`, `system` behind `--unsafe`, `errorf`/`warnf`,
//! records and `hist(v, bits)` (printed as current bpftrace prints them).

mod common;

use common::*;

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

#[test]
fn errorf_and_warnf_write_located_messages_to_stderr() {
    if !kernel_available("errorf_and_warnf_write_located_messages_to_stderr") {
        return;
    }
    let program = r#"BEGIN { errorf("bad %d, %s", 10, "x"); warnf("careful %d\n", 3); printf("out\n"); exit(); }"#;
    let out = ebpfc(&["-e", program]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "out\n\n\n");
    let err = stderr(&out);
    assert!(err.contains("stdin:1:9-38: ERROR: bad 10, x\n"), "{err}");
    assert!(err.contains("stdin:1:40-64: WARNING: careful 3\n"), "{err}");
}

#[test]
fn records_name_their_fields() {
    if !kernel_available("records_name_their_fields") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $r = (x = 1, name = "abc", t = (2, 3)); printf("%d %s %d\n", $r.x, $r.name, $r.t.1); print($r); $o = (x = 1, y = "a"); $o = (y = "b", x = 2); print($o); @k[$r.name] = (a = 5, b = "z"); exit(); }"#,
    );
    assert_eq!(
        out,
        "1 abc 3\n(x = 1, name = abc, t = (2, 3))\n(x = 2, y = b)\n\n\n@k[abc]: (a = 5, b = z)\n"
    );
    let json = run(
        &["-f", "json"],
        r#"BEGIN { @r = (x = 1, s = "a b"); exit(); }"#,
    );
    assert!(
        json.contains(r#"{"type": "map", "data": {"@r": {"x": 1, "s": "a b"}}}"#),
        "{json}"
    );
    let refused = ebpfc(&[
        "--check",
        "-e",
        "BEGIN { $r = (x = 1, y = 2); print($r.z); }",
    ]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("the record has no field 'z'; its fields are x, y"));
}

#[test]
fn hist_bits_split_each_power_of_two() {
    if !kernel_available("hist_bits_split_each_power_of_two") {
        return;
    }
    let out = run(
        &[],
        "BEGIN { $i = 0; while ($i < 13) { @h = hist($i, 1); $i++; } @b = hist(5000, 2); exit(); }",
    );
    let labels: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split("  ").next().filter(|s| s.starts_with('[')))
        .collect();
    assert_eq!(
        labels,
        ["[4K, 5K)", "[0]", "[1]", "[2]", "[3]", "[4, 6)", "[6, 8)", "[8, 12)", "[12, 16)"],
        "{out}"
    );
    assert!(out.contains("[8, 12)                4 |"), "{out}");
}

#[test]
fn strlen_offsetof_and_member_addresses() {
    if !kernel_available("strlen_offsetof_and_member_addresses") {
        return;
    }
    let out = run(
        &[],
        r#"struct S { int a; long b; char c[3]; int d; } BEGIN { $s = "hello"; printf("%d %d %d %d\n", strlen($s), strlen(""), strlen(comm), strlen("abcdefgh")); printf("%d %d %d\n", sizeof(struct S), offsetof(struct S, b), offsetof(struct S, d)); $t = curtask; $p = &$t->pid; $q = &curtask->se; printf("%d %d %d\n", *$p == pid, $q->vruntime == curtask->se.vruntime, (uint64)&$t->se.vruntime - (uint64)$t == offsetof(struct task_struct, se.vruntime)); exit(); }"#,
    );
    assert_eq!(out, "5 0 5 8\n24 8 20\n1 1 1\n\n\n");
    let refused = ebpfc(&["--check", "-e", "BEGIN { $a = 1; $p = &$a; }"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("'&' takes a struct member"));
}

#[test]
fn ncpus_counts_at_least_the_online_cpus() {
    if !kernel_available("ncpus_counts_at_least_the_online_cpus") {
        return;
    }
    let out = run(&[], r#"BEGIN { printf("%d\n", ncpus); exit(); }"#);
    let ncpus: usize = out.lines().next().unwrap().parse().unwrap();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let online = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    assert!(
        ncpus >= online && online > 0,
        "ncpus {ncpus}, online {online}"
    );
}

#[test]
fn wide_values_and_nested_script_structs() {
    if !kernel_available("wide_values_and_nested_script_structs") {
        return;
    }
    let out = run(
        &[],
        r#"struct Bar { int x; int d; } struct Foo { int q; struct Bar b; char c; } BEGIN { $a = 1 << 40; print($a); print(-5); print((uint8)200); printf("%d %d %d\n", sizeof(struct Foo), offsetof(struct Foo, b), offsetof(struct Foo, b.d)); @min = -9223372036854775808; exit(); }"#,
    );
    assert_eq!(
        out,
        "1099511627776\n-5\n200\n16 4 8\n\n\n@min: -9223372036854775808\n"
    );
}

#[test]
fn json_prints_values_and_command_output_by_kind() {
    if !kernel_available("json_prints_values_and_command_output_by_kind") {
        return;
    }
    let out = run(
        &["-f", "json", "-q", "--unsafe"],
        r#"BEGIN { print("hi"); print(-3); print((1, "a")); system("echo sys"); exit(); }"#,
    );
    assert_eq!(
        out,
        concat!(
            "{\"type\": \"value\", \"data\": \"hi\"}\n",
            "{\"type\": \"value\", \"data\": -3}\n",
            "{\"type\": \"value\", \"data\": [1,\"a\"]}\n",
            "{\"type\": \"syscall\", \"data\": \"sys\\n\"}\n",
            "\n\n",
        )
    );
}

#[test]
fn narrow_integers_wrap_and_shifts_are_logical() {
    if !kernel_available("narrow_integers_wrap_and_shifts_are_logical") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $x = (uint8)255; $x++; $y = (int8)127; $y++; $z = (uint16)0; $z--; printf("%d %d %d %d %lld %lld\n", $x, $y, $z, ~(uint8)0, -16 >> 2, (int32)-1 >> 1); $s = "a"; $s = "longer"; $t = ("a", 1); $t = ("bcd", 2); printf("%s %s\n", $s, $t.0); @t[1] = ("a", 2); @t[2] = ("bb", -3); exit(); }"#,
    );
    assert_eq!(
        out,
        "0 -128 65535 255 4611686018427387900 9223372036854775807\nlonger bcd\n\n\n@t[1]: (a, 2)\n@t[2]: (bb, -3)\n"
    );
}

#[test]
fn string_literals_longer_than_a_stack_record_print_whole() {
    if !kernel_available("string_literals_longer_than_a_stack_record_print_whole") {
        return;
    }
    for n in [192, 200, 255] {
        let text = "b".repeat(n);
        let out = run(
            &[],
            &format!(
                r#"config = {{ max_strlen = 256 }} BEGIN {{ printf("%s\n", "{text}"); exit(); }}"#
            ),
        );
        assert_eq!(out, format!("{text}\n\n\n"));
    }
}

#[test]
fn let_declares_strings_and_narrow_integers() {
    if !kernel_available("let_declares_strings_and_narrow_integers") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { let $s: string = "ab"; $s = "longer"; let $t: string[8] = "xy"; let $n: int8 = 200; let $u; $u = 3; printf("%s %s %d %d\n", $s, $t, $n, $u); exit(); }"#,
    );
    assert_eq!(out, "longer xy -56 3\n\n\n");
}

#[test]
fn max_strlen_sizes_the_strings_str_reads() {
    if !kernel_available("max_strlen_sizes_the_strings_str_reads") {
        return;
    }
    let program = format!(
        "config = {{ max_strlen = 8 }} tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcstrlen\"/ {{ printf(\"%s|%s|\\n\", str(args->filename), str(args->filename, 3)); }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcstrlen", "/etc/hostname", 1)
            .join()
            .unwrap()
    });
    assert_eq!(out, "/etc/ho|/et|\n\n\n@armed: 1\n");
}

#[test]
fn path_names_the_files_an_iterator_finds() {
    if !kernel_available("path_names_the_files_an_iterator_finds") {
        return;
    }
    use std::os::fd::AsRawFd;
    let name = format!("/tmp/ebpfc-path-{}", std::process::id());
    let file = std::fs::File::create(&name).unwrap();
    let (pid, fd) = (std::process::id().to_string(), file.as_raw_fd().to_string());
    let out = run(
        &[],
        &format!("iter:task_file /ctx->task->tgid == {pid} && ctx->fd == {fd}/ {{ printf(\"%s\\n\", path(ctx->file->f_path)); }}"),
    );
    drop(file);
    std::fs::remove_file(&name).unwrap();
    assert_eq!(out, format!("{name}\n\n\n"));
}
