//! Every script in `examples/` runs on this kernel: it compiles, loads, attaches, exits
//! by itself with status 0, and its first line says what it shows. While they run, a
//! workload thread named `ebpfcexample` opens, reads and writes files, executes
//! `/bin/echo` and types a command into an interactive bash, so each example has
//! something to trace; `EXPECTED` lists what each example must then print. With the
//! `llvm` feature every example runs on both backends.

mod common;

use common::*;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The workload thread's name, so its `comm`.
const WORKER: &str = "ebpfcexample";

/// Every example with the parameters it runs with and the lines (or parts of lines) it
/// must print. `{pid}` stands for this process's pid.
const EXPECTED: &[(&str, &[&str], &[&str])] = &[
    (
        "aggregations.bt",
        &[],
        &["@c: 1\n", "@mx: 9\n", "@s: 12\n", "@a: 3\n"],
    ),
    ("bash_readline.bt", &[], &[": echo ebpfc-example\n"]),
    ("context_switches.bt", &[], &["@switches["]),
    ("exec_args.bt", &[], &[" /bin/echo ebpfc-example\n"]),
    ("exec_names.bt", &[], &[" /bin/echo\n"]),
    ("hello.bt", &[], &["hello from ebpfc\n"]),
    ("if_else.bt", &[], &["@reads[small]: "]),
    (
        "loops.bt",
        &[],
        &["sum of odd numbers below 10: 25, 2^10 = 1024\n"],
    ),
    (
        "map_loops.bt",
        &[],
        &["ebpfcexample wrote ", " processes wrote "],
    ),
    ("open_paths.bt", &[], &["ebpfcexample     /etc/hostname\n"]),
    ("opensnoop_count.bt", &[], &["@[ebpfcexample]: "]),
    ("parent_pid.bt", &[], &["echo (pid ", " (ebpfcexample)\n"]),
    ("per_second.bt", &[], &["@writes[ebpfcexample]: "]),
    (
        "positional.bt",
        &["{pid}", "500"],
        &[
            "tracing pid {pid} (2 parameters)\n",
            "@syscalls[ebpfcexample]: ",
        ],
    ),
    ("profile_comm.bt", &[], &["@samples["]),
    (
        "read_bytes_by_pid.bt",
        &[],
        &["@bytes[{pid}, ebpfcexample]: \n["],
    ),
    ("read_sizes.bt", &[], &["@bytes[ebpfcexample]: \n["]),
    (
        "read_stats.bt",
        &[],
        &["@stats: ", "@avg: ", "@min: ", "@max: ", "@sum: "],
    ),
    (
        "string_predicate.bt",
        &[],
        &["ebpfcexample (pid {pid}) opened /etc/hostname\n"],
    ),
    (
        "strings.bt",
        &[],
        &[
            "equal\nstarts with ebpfc\ncontains trace\n",
            "[ebpfc-tracer  ] [  ebpfc-tracer]\n",
        ],
    ),
    (
        "struct_values.bt",
        &[],
        &[
            "open files of ebpfcexample: ",
            "{ .rlim_cur = ",
            "@limits[{.rlim_cur=",
        ],
    ),
    ("switch_hist.bt", &[], &["@pids: \n[", "@prev["]),
    ("syscall_latency.bt", &[], &["@usecs: \n["]),
    ("syscall_latency_by_id.bt", &[], &["@usecs["]),
    ("syscalls_by_process.bt", &[], &["@[ebpfcexample]: "]),
    ("ternary.bt", &[], &["@result[ok]: ", "@result[error]: "]),
    ("top_files.bt", &[], &["@opens[/etc/hostname]: "]),
    ("write_sizes_lhist.bt", &[], &["@sizes: \n["]),
];

fn examples() -> Vec<PathBuf> {
    bt_files("examples")
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The backends every example runs on.
fn backends() -> &'static [&'static str] {
    if cfg!(feature = "llvm") {
        &["bytecode", "llvm"]
    } else {
        &["bytecode"]
    }
}

#[test]
fn there_are_at_least_twenty_examples_and_each_has_expectations() {
    let names: Vec<String> = examples().iter().map(|p| file_name(p)).collect();
    assert!(names.len() >= 20, "{names:?}");
    let expected: Vec<&str> = EXPECTED.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        names, expected,
        "EXPECTED must list every example, in order"
    );
}

#[test]
fn every_example_says_what_it_shows() {
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("// "),
            "{} must open with a comment",
            file.display()
        );
    }
}

#[test]
fn every_example_compiles() {
    for file in examples() {
        let out = ebpfc(&["--check", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
    }
}

/// Until `stop` is set: opens, reads and writes files, fails to open one, executes
/// `/bin/echo` and, every half second, types a command into an interactive bash.
fn workload(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(WORKER.to_string())
        .spawn(move || {
            let mut round = 0u32;
            while !stop.load(Ordering::Relaxed) {
                drop(std::fs::read("/etc/hostname"));
                drop(std::fs::File::open("/nonexistent/ebpfc-example"));
                drop(std::fs::write("/dev/null", b"ebpfc"));
                if round.is_multiple_of(20) {
                    drop(
                        Command::new("/bin/echo")
                            .arg("ebpfc-example")
                            .stdout(Stdio::null())
                            .status(),
                    );
                }
                if round.is_multiple_of(100) {
                    type_into_bash("echo ebpfc-example\n");
                }
                round += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
        .expect("workload thread starts")
}

fn type_into_bash(line: &str) {
    let Ok(mut bash) = Command::new("/bin/bash")
        .args(["--norc", "--noprofile", "-i"])
        .env("HISTFILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return;
    };
    if let Some(mut input) = bash.stdin.take() {
        let _ = input.write_all(line.as_bytes());
    }
    let _ = bash.wait();
}

#[test]
fn every_example_runs_and_prints_what_it_shows() {
    if !kernel_available("every_example_runs_and_prints_what_it_shows") {
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let worker = workload(stop.clone());
    let pid = std::process::id().to_string();
    let mut failures = Vec::new();
    for backend in backends() {
        for (name, params, wanted) in EXPECTED {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(name);
            let mut args = vec!["--backend", backend, path.to_str().unwrap()];
            let params: Vec<String> = params.iter().map(|p| p.replace("{pid}", &pid)).collect();
            args.extend(params.iter().map(String::as_str));
            let out = ebpfc(&args);
            let text = stdout(&out);
            if !out.status.success() {
                failures.push(format!("{name} ({backend}) failed: {}", stderr(&out)));
                continue;
            }
            for want in wanted.iter().map(|w| w.replace("{pid}", &pid)) {
                if !text.contains(&want) {
                    failures.push(format!("{name} ({backend}) lacks {want:?}:\n{text}"));
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
