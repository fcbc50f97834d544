//! Shared helpers for the binary's tests: running `ebpfc`, deciding whether kernel tests
//! can run here, and deterministic workloads.

#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

/// Whether BPF programs can be loaded here. Without it the test is skipped loudly, or
/// fails when `EBPFC_REQUIRE_KERNEL=1`.
pub fn kernel_available(test: &str) -> bool {
    let root = unsafe_free_uid() == 0;
    let btf = std::path::Path::new("/sys/kernel/btf/vmlinux").exists();
    if root && btf {
        return true;
    }
    let why = if root {
        "no kernel BTF"
    } else {
        "not running as root"
    };
    if std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{test}: kernel tests are required (EBPFC_REQUIRE_KERNEL=1) but {why}");
    }
    eprintln!("!!! SKIPPED {test}: BPF is unavailable ({why})");
    false
}

/// Whether a helper tool (bpftool, bpftrace) exists; same skip/fail rule.
pub fn tool_available(test: &str, tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("{test}: {tool} is required (EBPFC_REQUIRE_KERNEL=1) but missing");
        }
        eprintln!("!!! SKIPPED {test}: {tool} is not installed");
    }
    found
}

fn unsafe_free_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|u| u.parse().ok()))
        .unwrap_or(u32::MAX)
}

/// Runs `program` (which exits by itself) and returns its stdout.
pub fn run(args: &[&str], program: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["-e", program]);
    let out = ebpfc(&all);
    assert!(out.status.success(), "{program}: {}", stderr(&out));
    stdout(&out)
}

/// Runs `ebpfc` with `args` to completion.
pub fn ebpfc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpfc"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ebpfc runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Starts a thread named `name` (its `comm`) that opens `path` `times` times.
pub fn open_workload(name: &str, path: &'static str, times: usize) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            for _ in 0..times {
                drop(std::fs::File::open(path));
            }
        })
        .expect("workload thread starts")
}

/// Loads every program of `object` with `bpftool prog loadall` (pinned under a
/// per-process directory that is removed again) and returns bpftool's output.
pub fn bpftool_loadall(object: &std::path::Path, tag: &str) -> Output {
    let pin = format!("/sys/fs/bpf/ebpfc_{tag}_{}", std::process::id());
    let load = Command::new("bpftool")
        .args([
            "prog",
            "loadall",
            object.to_str().expect("UTF-8 path"),
            &pin,
        ])
        .output()
        .expect("bpftool runs");
    let _ = std::fs::remove_dir_all(&pin);
    load
}

/// A probe pair for [`run_with_workload`]: prints `ready` once attached (probes attach in
/// order, so the tracepoints before it are live), and exits when a thread named
/// `ebpfcstop` opens a file.
pub const READY: &str = r#"interval:ms:50 /@armed == 0/ { @armed = 1; printf("ready\n"); }
tracepoint:syscalls:sys_enter_openat /comm == "ebpfcstop"/ { exit(); }"#;

/// Runs `ebpfc ARGS -e PROGRAM`, where `program` ends with [`READY`]; runs `workload`
/// once `ready` is printed, then stops the run and returns the rest of stdout. Each run
/// gets its own stop thread name, so runs in parallel tests do not stop each other.
pub fn run_with_workload(args: &[&str], program: &str, workload: impl FnOnce()) -> String {
    use std::io::{BufRead, BufReader, Read};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let stop = format!("ebpfcstop{}", RUNS.fetch_add(1, Ordering::Relaxed));
    let program = program.replace("\"ebpfcstop\"", &format!("\"{stop}\""));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebpfc"))
        .args(args)
        .args(["-e", &program])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ebpfc starts");
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("ready line");
    assert_eq!(first, "ready\n", "{args:?}");
    workload();
    open_workload(&stop, "/etc/hostname", 1).join().unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("output");
    assert!(child.wait().expect("ebpfc exits").success(), "{args:?}");
    rest
}

/// The `.bt` files of folder `dir` (relative to the repository root), sorted.
pub fn bt_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bt"))
        .collect();
    files.sort();
    files
}

/// The programs of a list file: one per line, blank lines skipped.
pub fn program_list(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The ebpfc backends built in: the LLVM one with the `llvm` feature.
pub fn backends() -> &'static [&'static str] {
    if cfg!(feature = "llvm") {
        &["bytecode", "llvm"]
    } else {
        &["bytecode"]
    }
}

/// Output without the `Attaching` line (or its JSON object) and trailing spaces.
pub fn normalized(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("Attaching ") && !l.contains(r#""type": "attached_probes""#))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// Runs one differential case: `run` gets the tool's command (`bpftrace`, then ebpfc on
/// each backend) and returns its normalized output. Adds to `failures` every failed
/// run and every ebpfc output unlike bpftrace's, headed by `case`.
pub fn check_case(
    case: &str,
    failures: &mut Vec<String>,
    run: impl Fn(&[&str]) -> Result<String, String>,
) {
    let want = match run(&["bpftrace"]) {
        Ok(want) => want,
        Err(e) => return failures.push(e),
    };
    let ebpfc = env!("CARGO_BIN_EXE_ebpfc");
    for backend in backends() {
        match run(&[ebpfc, "--backend", backend]) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!(
                "{case}\n--- bpftrace\n{want}--- ebpfc ({backend})\n{got}"
            )),
            Err(e) => failures.push(e),
        }
    }
}

/// Fails listing `failures` (of `total` cases of `what`), or says that all `total`
/// print the same under bpftrace and ebpfc.
pub fn report(what: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} {what} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{total} {what} print the same under bpftrace and ebpfc ({})",
        backends().join(", ")
    );
}
