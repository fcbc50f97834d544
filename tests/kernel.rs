//! End-to-end runs of the `ebpfc` binary on the live kernel, on workloads the tests
//! control, checking exact output.

mod common;

use common::*;

#[test]
fn hello_prints_and_exits_zero() {
    if !kernel_available("hello_prints_and_exits_zero") {
        return;
    }
    let out = ebpfc(&["-e", r#"BEGIN { printf("hello from ebpfc\n"); exit(); }"#]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello from ebpfc\n\n\n");
    assert!(stderr(&out).contains("Attaching 1 probe..."));
}

#[test]
fn exit_code_is_the_programs() {
    if !kernel_available("exit_code_is_the_programs") {
        return;
    }
    let out = ebpfc(&["-e", "BEGIN { exit(3); }"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn tracepoint_counts_an_exact_workload() {
    if !kernel_available("tracepoint_counts_an_exact_workload") {
        return;
    }
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcwork\"/ {{ @[comm] = count(); @files[str(args->filename)] = count(); }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcwork", "/etc/hostname", 25)
            .join()
            .unwrap()
    });
    assert_eq!(
        out,
        "\n\n@[ebpfcwork]: 25\n@armed: 1\n@files[/etc/hostname]: 25\n"
    );
}

#[test]
fn aggregations_see_tracepoint_fields() {
    if !kernel_available("aggregations_see_tracepoint_fields") {
        return;
    }
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcagg\"/ {{ @flags = lhist(args->flags & 3, 0, 4, 1); @s = sum(1); @m = max(args->flags & 3); }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcagg", "/etc/hostname", 4)
            .join()
            .unwrap()
    });
    let expected = "\n\n@armed: 1\n@flags: \n[0, 1)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@m: 0\n@s: 4\n";
    assert_eq!(out, expected);
}

#[test]
fn emitted_object_loads_in_bpftool_and_runs_later() {
    if !kernel_available("emitted_object_loads_in_bpftool_and_runs_later")
        || !tool_available("emitted_object", "bpftool")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.bt");
    let object = dir.path().join("s.o");
    std::fs::write(&script, "tracepoint:sched:sched_switch { @[args->prev_comm] = count(); }\nBEGIN { printf(\"later %d\\n\", 7); exit(); }\n").unwrap();
    let out = ebpfc(&[
        "--emit-elf",
        object.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let load = bpftool_loadall(&object, "test");
    assert!(
        load.status.success(),
        "bpftool: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    let run = ebpfc(&[object.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    // BEGIN exits before the tracepoint attaches, so @ is empty: it prints a bare line.
    assert_eq!(stdout(&run), "later 7\n\n\n\n");
}

#[test]
fn a_verifier_rejection_points_at_the_statement() {
    if !kernel_available("a_verifier_rejection_points_at_the_statement") {
        return;
    }
    let program = "BEGIN {\n  $i = 0;\n  while ($i >= 0) {\n    $i++;\n  }\n  exit();\n}\n";
    let out = ebpfc(&["-e", program]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the kernel verifier rejected probe BEGIN"),
        "{err}"
    );
    assert!(err.contains("┌─ <stdin>:3:3"), "the while loop: {err}");
    assert!(
        err.contains("rejected here: BPF program is too large"),
        "{err}"
    );
    assert!(
        err.contains("^^^^^^^^^^^^^^^ rejected here"),
        "the loop's head: {err}"
    );
    assert!(
        !err.contains("verifier log (last"),
        "the raw log is for -v: {err}"
    );
    let verbose = stderr(&ebpfc(&["-v", "-e", program]));
    assert!(verbose.contains("verifier log (last lines)"), "{verbose}");
}
