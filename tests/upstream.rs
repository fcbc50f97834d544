//! The current bpftrace language's additions end to end on the live kernel: builtins
//! with modes (`pid(init)`, `nsecs(boot)`), process builtins (`ppid`, `pcomm`,
//! `usermode`, `probetype`), `.` through pointers, ternaries of statements and `_ = e`.

mod common;

use common::*;
use std::process::Command;

/// This test process's command name (its main thread's), from `/proc`.
fn own_comm() -> String {
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    comm.trim().to_string()
}

#[test]
fn process_builtins_name_the_current_task_and_its_parent() {
    if !kernel_available("process_builtins_name_the_current_task_and_its_parent") {
        return;
    }
    // ebpfc's BEGIN runs in ebpfc itself: its parent is this test.
    let comm = own_comm();
    let expected = format!(
        "{} ebpfc {}\n1 1 special 0\n",
        std::process::id(),
        comm.chars().take(15).collect::<String>()
    );
    let out = run(
        &[],
        r#"BEGIN { printf("%d %s %s\n", ppid, pcomm, pcomm(curtask->real_parent));
                   printf("%d %d %s %d\n", pid == pid(init), tid() == tid(curr_ns), probetype, has_cpid);
                   exit(); }"#,
    );
    assert_eq!(out, format!("{expected}\n\n"));
}

#[test]
fn pid_is_seen_from_ebpfcs_pid_namespace() {
    if !kernel_available("pid_is_seen_from_ebpfcs_pid_namespace")
        || !tool_available("pid_is_seen_from_ebpfcs_pid_namespace", "unshare")
    {
        return;
    }
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_ebpfc"))
        .args([
            "-e",
            r#"BEGIN { printf("%d %d %d\n", pid, pid(curr_ns), tid(init) > 1); exit(); }"#,
        ])
        .output()
        .expect("unshare runs");
    assert!(out.status.success(), "{}", stderr(&out));
    // ebpfc is the first process of its new namespace: pid 1 there, not in the kernel's.
    assert_eq!(stdout(&out), "1 1 1\n\n\n");
}

#[test]
fn clocks_by_name() {
    if !kernel_available("clocks_by_name") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $m = nsecs(monotonic); $b = nsecs(boot); $t = nsecs(tai);
                   printf("%d %d %d\n", $b >= $m, $m <= nsecs, $t / 1000000000 > 1700000000); exit(); }"#,
    );
    assert_eq!(out, "1 1 1\n\n\n");
}

#[test]
fn usermode_tells_user_code_from_the_kernel() {
    if !kernel_available("usermode_tells_user_code_from_the_kernel") {
        return;
    }
    // A uprobe interrupts user code; a tracepoint always runs in the kernel.
    let out = ebpfc(&[
        "-c",
        "/bin/date",
        "-e",
        "uprobe:libc:getenv /pid == cpid/ { @u = usermode; } tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @k = usermode; }",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("\n\n@k: 0\n@u: 1\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn dot_reads_through_pointers_and_arrow_is_its_alias() {
    if !kernel_available("dot_reads_through_pointers_and_arrow_is_its_alias") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $t = curtask; printf("%d %d %d\n", $t.pid == pid, curtask.real_parent.tgid == ppid, curtask->se->load.weight == curtask.se.load.weight); exit(); }"#,
    );
    assert_eq!(out, "1 1 1\n\n\n");
}

#[test]
fn ternaries_of_statements_and_discards() {
    if !kernel_available("ternaries_of_statements_and_discards") {
        return;
    }
    let out = run(
        &[],
        r#"BEGIN { $a = 1; $a == 1 ? print("one") : print("other"); $a == 2 ? printf("two\n") : printf("not two\n"); _ = $a + 1; exit(); }"#,
    );
    assert_eq!(out, "one\nnot two\n\n\n");
}
