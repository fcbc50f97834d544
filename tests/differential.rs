//! Differential tests: the same program run through Debian's `bpftrace` (0.17) and through
//! `ebpfc` must print the same stdout (ignoring the `Attaching` line and trailing spaces).
//!
//! - `PROGRAMS` (`differential/programs.txt`): self-contained one-line programs (BEGIN,
//!   END, interval), one per line (`tests/backends.rs` runs this list too);
//! - `LANGUAGE` (`differential/language.txt`): more such programs, across the language:
//!   printf conversions, integer arithmetic and casts, every aggregation, map printing
//!   and `print`, strings, tuples, control flow, C definitions;
//! - `JSON` (`differential/json.txt`): programs compared under `-f json`;
//! - `WITH_PARAMS`: programs run with positional parameters;
//! - `SCRIPTS`: programs spanning lines (preprocessor, C definitions, comments);
//! - `TRACED` (`differential/traced.txt`): programs that trace a workload this test runs on a thread named
//!   `ebpfcdiff` (made unique per test process), pinned to one CPU so events arrive in
//!   order under both tools;
//! - `REJECTED` (`differential/rejected.txt`): programs both tools refuse (non-zero exit, nothing run).
//!
//! Maps are printed sorted by value; equal values would be printed in bpftrace's hash
//! order, so no program leaves two entries of a map with the same value. With the `llvm`
//! feature, ebpfc's side runs on both backends.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// Programs whose output both tools compute the same way.
static PROGRAMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| program_list(include_str!("differential/programs.txt")));

/// More self-contained programs, across the language.
static LANGUAGE: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| program_list(include_str!("differential/language.txt")));

/// Programs compared under `-f json`.
static JSON: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| program_list(include_str!("differential/json.txt")));

/// Programs and the positional parameters they run with.
const WITH_PARAMS: &[(&str, &[&str])] = &[
    (
        r#"BEGIN { printf("%d %s %d\n", $1, str($2), $#); exit(); }"#,
        &["42", "hello"],
    ),
    (
        r#"BEGIN { printf("%d\n", $1 + $2 * $3); exit(); }"#,
        &["3", "4", "5"],
    ),
    (
        r#"BEGIN { @[str($1)] = count(); @[str($2)] = count(); @[str($1)] = count(); exit(); }"#,
        &["alpha", "beta"],
    ),
    (
        r#"BEGIN { if ($# == 0) { printf("no parameters\n"); } exit(); }"#,
        &[],
    ),
    (
        r#"interval:ms:$1 /@d == 0/ { @d = 1; @n = count(); printf("%s\n", probe); exit(); }"#,
        &["50"],
    ),
    (
        r#"BEGIN { printf("%d %d\n", $1 > 10 ? 1 : 0, $2); exit(); }"#,
        &["11", "7"],
    ),
    (
        r#"BEGIN { $i = 0; while ($i < $1) { @sq[$i] = $i * $i; $i++; } exit(); }"#,
        &["5"],
    ),
    (
        r#"BEGIN { $i = 0; unroll($1) { $i++; } printf("%d %d\n", $i, strncmp("abcd", "abxx", $2)); exit(); }"#,
        &["3", "2"],
    ),
    (
        r#"BEGIN { @m[1] = 10; @m[2] = 20; @m[3] = 30; print(@m, $1, $2); exit(); }"#,
        &["2", "10"],
    ),
    (
        r#"BEGIN { $n = 3; printf("[%s] [%s]\n", str($1, $n), str($1, $n + 20)); exit(); }"#,
        &["abcdefghij"],
    ),
];

/// Programs spanning several lines.
const SCRIPTS: &[&str] = &[
    "#define LIMIT 5\nBEGIN { printf(\"%d\\n\", LIMIT * 2); exit(); }",
    "#!/usr/bin/env bpftrace\nBEGIN { printf(\"shebang\\n\"); exit(); }",
    "/* block\n comment */ BEGIN { // line comment\n printf(\"c\\n\"); exit(); }",
    "enum color { RED, GREEN = 5, BLUE };\nBEGIN { printf(\"%d %d %d\\n\", RED, GREEN, BLUE); exit(); }",
    "struct point { int x; int y; char name[8]; }\nBEGIN { printf(\"%d\\n\", sizeof(struct point)); exit(); }",
    "BEGIN\n{\n\t@start = 1;\n}\n\ninterval:ms:20\n/@ticks < 2/\n{\n\t@ticks++;\n\tif (@ticks == 2) {\n\t\texit();\n\t}\n}\n\nEND\n{\n\tprintf(\"ticks %d\\n\", @ticks);\n\tdelete(@start);\n}\n",
    "BEGIN { @n = 5; @m = count(); @k[1] = 2; }\nEND { delete(@n); clear(@k); }\ninterval:ms:10 { exit(); }",
];

/// Programs tracing [`workload`]; each runs with [`READY`] appended.
static TRACED: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| program_list(include_str!("differential/traced.txt")));

/// Programs both tools refuse.
static REJECTED: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| program_list(include_str!("differential/rejected.txt")));

/// Runs `run(case)` for every case on three threads; panics listing every failure.
fn for_each_case<T: Sync>(what: &str, cases: &[T], run: impl Fn(&T) -> Result<(), String> + Sync) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(failure) = run(case) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    report(what, cases.len(), &failures);
}

/// Runs `-e program params...` under bpftrace and under ebpfc on every backend.
fn compare(program: &str, params: &[&str]) -> Result<(), String> {
    compare_with(&[], program, params)
}

/// [`compare`] with `flags` before `-e`.
fn compare_with(flags: &[&str], program: &str, params: &[&str]) -> Result<(), String> {
    let reference = Command::new("bpftrace")
        .args(flags)
        .args(["-e", program])
        .args(params)
        .output()
        .expect("bpftrace runs");
    if !reference.status.success() {
        return Err(format!(
            "bpftrace failed on {program}: {}",
            stderr(&reference)
        ));
    }
    let want = normalized(&stdout(&reference));
    for backend in backends() {
        let mut args = vec!["--backend", backend];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["-e", program]);
        args.extend_from_slice(params);
        let ours = ebpfc(&args);
        if !ours.status.success() {
            return Err(format!(
                "ebpfc ({backend}) failed on {program}: {}",
                stderr(&ours)
            ));
        }
        let got = normalized(&stdout(&ours));
        if want != got {
            return Err(format!(
                "{flags:?} {program} {params:?}\n--- bpftrace\n{want}--- ebpfc ({backend})\n{got}"
            ));
        }
    }
    Ok(())
}

fn differential_available(test: &str) -> bool {
    kernel_available(test) && tool_available(test, "bpftrace")
}

#[test]
fn programs_print_what_bpftrace_prints() {
    if !differential_available("programs_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("programs", &PROGRAMS, |p| compare(p, &[]));
}

#[test]
fn language_programs_print_what_bpftrace_prints() {
    if !differential_available("language_programs_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("language programs", &LANGUAGE, |p| compare(p, &[]));
}

#[test]
fn json_programs_print_what_bpftrace_prints() {
    if !differential_available("json_programs_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("JSON programs", &JSON, |p| {
        compare_with(&["-f", "json"], p, &[])
    });
}

#[test]
fn programs_with_parameters_print_what_bpftrace_prints() {
    if !differential_available("programs_with_parameters_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("programs with parameters", WITH_PARAMS, |(p, params)| {
        compare(p, params)
    });
}

#[test]
fn scripts_print_what_bpftrace_prints() {
    if !differential_available("scripts_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("scripts", SCRIPTS, |p| compare(p, &[]));
}

#[test]
fn programs_both_refuse_are_refused() {
    if !differential_available("programs_both_refuse_are_refused") {
        return;
    }
    for_each_case("refused programs", &REJECTED, |program| {
        let reference = Command::new("bpftrace")
            .args(["-e", program])
            .output()
            .expect("bpftrace runs");
        if reference.status.success() {
            return Err(format!("bpftrace accepted {program}"));
        }
        let ours = ebpfc(&["-e", program]);
        let err = stderr(&ours);
        if ours.status.success() || !err.contains("error") {
            return Err(format!("ebpfc accepted {program}: {err}"));
        }
        Ok(())
    });
}

/// The workload thread's name, `ebpfcdiff` and this process's pid, so that runs of this
/// test in other processes are not traced; `TRACED` says `"ebpfcdiff"` for it.
fn worker() -> String {
    format!("ebpfcdiff{:05}", std::process::id() % 100_000)
}

/// What the `TRACED` programs see: a thread named [`worker`], pinned to the first CPU
/// of this process's set, opens /etc/hostname 4 times, a missing file 3 times,
/// /dev/zero twice and /dev/null once; writes 1, 10, 100 and 1000 bytes to /dev/null;
/// reads 7, 70, 700 and 7000 bytes from /dev/zero; calls getppid() 5 times,
/// usleep(1000) once and kill(itself, 0) twice.
fn workload() {
    std::thread::Builder::new()
        .name(worker())
        .spawn(|| {
            pin_to_one_cpu();
            for _ in 0..4 {
                drop(std::fs::File::open("/etc/hostname").unwrap());
            }
            for _ in 0..3 {
                assert!(std::fs::File::open("/nonexistent/ebpfc-diff").is_err());
            }
            drop(std::fs::File::open("/dev/zero").unwrap());
            let mut null = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .unwrap();
            let text = b"ebpfc-diff-write-".repeat(64);
            for size in [1, 10, 100, 1000] {
                null.write_all(&text[..size]).unwrap();
            }
            let mut zero = std::fs::File::open("/dev/zero").unwrap();
            for size in [7, 70, 700, 7000] {
                zero.read_exact(&mut vec![0; size]).unwrap();
            }
            unsafe {
                for _ in 0..5 {
                    libc::getppid();
                }
                libc::usleep(1000);
                for _ in 0..2 {
                    libc::kill(libc::getpid(), 0);
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Keeps the calling thread on one CPU, so per-CPU event buffers keep its order.
fn pin_to_one_cpu() {
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0);
        let first = (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set));
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(first.expect("a CPU"), &mut set);
        assert_eq!(libc::sched_setaffinity(0, size, &set), 0);
    }
}

/// Runs `tool -e PROGRAM` with [`READY`] appended: runs [`workload`] once `ready` is
/// printed, then stops the run and returns the rest of stdout, normalized.
fn traced(tool: &[&str], program: &str) -> Result<String, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let stop = format!("ebpfcs{:05}_{run}", std::process::id() % 100_000);
    let program = format!("{program}\n{READY}")
        .replace("\"ebpfcstop\"", &format!("\"{stop}\""))
        .replace("\"ebpfcdiff\"", &format!("\"{}\"", worker()));
    let mut child = Command::new(tool[0])
        .args(&tool[1..])
        .args(["-e", &program])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracer starts");
    let mut errors = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = errors.read_to_string(&mut text);
        text
    });
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line != "ready\n" {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            let err = errors.join().unwrap_or_default();
            return Err(format!("{tool:?} never got ready on {program}: {err}"));
        }
    }
    workload();
    open_workload(&stop, "/etc/hostname", 1).join().unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{tool:?} failed on {program}: {err}"));
    }
    Ok(normalized(&rest))
}

#[test]
fn traced_programs_print_what_bpftrace_prints() {
    if !differential_available("traced_programs_print_what_bpftrace_prints") {
        return;
    }
    let mut failures = Vec::new();
    for program in TRACED.iter() {
        check_case(program, &mut failures, |tool| traced(tool, program));
    }
    report("traced programs", TRACED.len(), &failures);
}
