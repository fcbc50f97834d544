//! Every probe kind and process-control flag on the live kernel: each test spawns the
//! work that triggers its probes and checks what ebpfc prints and how it exits.

mod common;

use common::*;
use std::io::Read;
use std::process::{Command, Stdio};

/// The value printed for a scalar map `@name: N`, if present.
fn scalar(out: &str, name: &str) -> Option<u64> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: "))?.trim().parse().ok())
}

fn run_counting(test: &str, program: &str, map: &str) {
    if !kernel_available(test) {
        return;
    }
    let out = ebpfc(&["-e", program]);
    assert!(out.status.success(), "{program}: {}", stderr(&out));
    let n = scalar(&stdout(&out), map).unwrap_or(0);
    assert!(
        n > 0,
        "{program}: {map} should be non-zero in {:?}",
        stdout(&out)
    );
}

#[test]
fn raw_tracepoints_fire() {
    run_counting(
        "raw_tracepoints_fire",
        "rawtracepoint:sched_switch { @s = count(); } interval:ms:500 { exit(); }",
        "@s",
    );
}

#[test]
fn profile_probes_fire() {
    run_counting(
        "profile_probes_fire",
        "profile:hz:99 { @p = count(); } interval:ms:600 { exit(); }",
        "@p",
    );
}

#[test]
fn software_events_fire() {
    run_counting(
        "software_events_fire",
        "software:cpu-clock:1000000 { @w = count(); } interval:ms:600 { exit(); }",
        "@w",
    );
}

#[test]
fn uprobes_and_uretprobes_fire_on_a_spawned_shell() {
    if !kernel_available("uprobes_and_uretprobes_fire_on_a_spawned_shell") {
        return;
    }
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("libc is installed");
    let program = format!(
        "uprobe:/bin/bash:execute_command {{ @u = count(); }} uretprobe:{libc}:getenv {{ @r = count(); }}"
    );
    let out = ebpfc(&["-c", "/bin/bash -c true;true", "-e", &program]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(scalar(&text, "@u").unwrap_or(0) > 0, "{text}");
    assert!(scalar(&text, "@r").unwrap_or(0) > 0, "{text}");
}

#[test]
fn begin_runs_before_and_end_after() {
    if !kernel_available("begin_runs_before_and_end_after") {
        return;
    }
    let out = ebpfc(&[
        "-e",
        r#"BEGIN { printf("b\n"); } END { printf("e\n"); } interval:ms:300 { exit(); }"#,
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "b\ne\n\n\n");
}

#[test]
fn a_command_sets_cpid_and_ends_the_run() {
    if !kernel_available("a_command_sets_cpid_and_ends_the_run") {
        return;
    }
    let program = "tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @o = count(); }";
    let out = ebpfc(&["-c", "cat /etc/hostname /etc/hostname", "-e", program]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        scalar(&stdout(&out), "@o").unwrap_or(0) >= 2,
        "{}",
        stdout(&out)
    );
}

#[test]
fn json_output_is_one_object_per_line() {
    if !kernel_available("json_output_is_one_object_per_line") {
        return;
    }
    let out = ebpfc(&[
        "-f",
        "json",
        "-e",
        r#"BEGIN { @m[1] = count(); @h = hist(5); printf("p %d\n", 1); exit(); }"#,
    ]);
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            v["type"].as_str().expect("type field").to_string()
        })
        .collect();
    assert_eq!(types, ["attached_probes", "printf", "hist", "map"]);
}

#[test]
fn sigint_prints_the_maps_and_exits_zero() {
    if !kernel_available("sigint_prints_the_maps_and_exits_zero") {
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebpfc"))
        .args([
            "-e",
            "BEGIN { @started = 1; } interval:ms:10 { @ticks = count(); }",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut first = [0u8; 9];
    err.read_exact(&mut first).expect("Attaching line");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("@started: 1"), "{text}");
    assert!(scalar(&text, "@ticks").unwrap_or(0) > 0, "{text}");
}

#[test]
fn unprivileged_runs_name_the_missing_privilege() {
    if !kernel_available("unprivileged_runs_name_the_missing_privilege")
        || !tool_available("unprivileged", "setpriv")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ebpfc");
    std::fs::copy(env!("CARGO_BIN_EXE_ebpfc"), &copy).unwrap();
    let mut perms = std::fs::metadata(dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(dir.path(), perms).unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&copy)
        .args(["-e", "BEGIN { exit(); }"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("missing privilege") && err.contains("CAP_BPF"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn kprobes_load_then_fail_to_attach_with_a_reason() {
    if !kernel_available("kprobes_load") || !tool_available("kprobes_load", "bpftool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("k.o");
    let program = "kprobe:vfs_read { @ = count(); } kretprobe:vfs_read { @r = count(); }";
    let out = ebpfc(&["--emit-elf", object.to_str().unwrap(), "-e", program]);
    assert!(out.status.success(), "{}", stderr(&out));
    let load = bpftool_loadall(&object, "kprobe");
    assert!(
        load.status.success(),
        "the verifier accepts kprobe programs: {}",
        stderr(&load)
    );
    let run = ebpfc(&["-e", program]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("kprobe:vfs_read") && err.contains("kprobes are not available"),
        "{err}"
    );
}

#[test]
fn fentry_is_refused_with_the_probe_named() {
    if !kernel_available("fentry_is_refused_with_the_probe_named") {
        return;
    }
    let run = ebpfc(&["-e", "fentry:vfs_read { @ = count(); }"]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("fentry:vfs_read") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn dry_run_attaches_and_exits_zero() {
    if !kernel_available("dry_run_attaches_and_exits_zero") {
        return;
    }
    let out = ebpfc(&[
        "--dry-run",
        "-e",
        "tracepoint:sched:sched_switch { @ = count(); }",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn positional_parameters_and_output_files() {
    if !kernel_available("positional_parameters_and_output_files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let program = r#"BEGIN { printf("%d %s %d\n", $1, $2, $#); exit(); }"#;
    let out = ebpfc(&["-o", file.to_str().unwrap(), "-e", program, "42", "hello"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "42 hello 2\n\n\n");
}
