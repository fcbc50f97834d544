//! Kernel types through BTF: struct chains read from live kernel and user memory give
//! the values the test process knows, and bad field names get suggestions.

mod common;

use common::*;

const FIXTURE_BTF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/compiler/tests/fixtures/vmlinux.btf"
);

#[test]
fn unknown_struct_fields_name_the_struct_and_suggest() {
    let out = ebpfc(&[
        "--check",
        "--btf",
        FIXTURE_BTF,
        "-e",
        "BEGIN { @x = curtask->real_parent->pidd; }",
    ]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("struct task_struct has no field 'pidd'; did you mean 'pid'?"),
        "{err}"
    );
    assert!(err.contains("1:36"), "{err}");
}

#[test]
fn a_missing_btf_file_is_a_clear_error() {
    let out = ebpfc(&[
        "--check",
        "--btf",
        "/nonexistent.btf",
        "-e",
        "BEGIN { @x = curtask->pid; }",
    ]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot read BTF from /nonexistent.btf"),
        "{err}"
    );
}

#[test]
fn task_struct_chains_read_kernel_memory() {
    if !kernel_available("task_struct_chains_read_kernel_memory") {
        return;
    }
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /comm == \"ebpfcty\"/ {{ $t = (struct task_struct *)curtask; @[$t->tgid, curtask->real_parent->tgid, $t->group_leader->comm] = count(); }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        open_workload("ebpfcty", "/etc/hostname", 3).join().unwrap()
    });
    let me = std::process::id();
    let parent = std::os::unix::process::parent_id();
    let leader = std::fs::read_to_string("/proc/self/comm").expect("own comm");
    let expected = format!(
        "\n\n@[{me}, {parent}, {}]: 3\n@armed: 1\n",
        leader.trim_end()
    );
    assert_eq!(out, expected);
}

#[test]
fn syscall_pointers_read_user_memory() {
    if !kernel_available("syscall_pointers_read_user_memory") {
        return;
    }
    let program = format!(
        "tracepoint:syscalls:sys_enter_clock_nanosleep /comm == \"ebpfcsl\"/ {{ @[args->rqtp->tv_sec, args->rqtp->tv_nsec] = count(); }}\n{READY}"
    );
    let out = run_with_workload(&[], &program, || {
        std::thread::Builder::new()
            .name("ebpfcsl".into())
            .spawn(|| std::thread::sleep(std::time::Duration::from_micros(1250)))
            .expect("thread starts")
            .join()
            .unwrap()
    });
    assert_eq!(out, "\n\n@[0, 1250000]: 1\n@armed: 1\n");
}
