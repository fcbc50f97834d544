//! Differential tests of programs tracing a command started with `-c`: each case of
//! `differential/commands.tsv` is `COMMAND<TAB>PROGRAM`, run as `-c COMMAND -e PROGRAM`
//! under Debian's `bpftrace` (0.17) and under ebpfc on every backend; stdout must be the
//! same (ignoring the `Attaching` line and trailing spaces).
//!
//! The commands are pinned to one CPU and run with an empty environment, so their
//! events arrive in one order and their system calls do not depend on the caller's
//! locale. Some run the scripts of `differential/scripts/` (copied to `scripts/`) or
//! the files of `differential/commands/` (copied to `cmd/`), with `@DIR@` (in the
//! scripts and the cases) standing for a scratch folder of this test process. Cases run
//! one after the other: several scripts share their scratch files.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// `(command, program)` pairs, with `@DIR@` for the scratch folder.
fn cases() -> Vec<(&'static str, &'static str)> {
    include_str!("differential/commands.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("COMMAND<TAB>PROGRAM"))
        .collect()
}

/// The scripts the commands run, by file name.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "bashwork.sh",
        include_str!("differential/scripts/bashwork.sh"),
    ),
    ("conn.sh", include_str!("differential/scripts/conn.sh")),
    ("exits.sh", include_str!("differential/scripts/exits.sh")),
    ("files.sh", include_str!("differential/scripts/files.sh")),
    ("fsops.sh", include_str!("differential/scripts/fsops.sh")),
    ("loop.sh", include_str!("differential/scripts/loop.sh")),
    ("mkfile.sh", include_str!("differential/scripts/mkfile.sh")),
    ("pipe.sh", include_str!("differential/scripts/pipe.sh")),
    ("sig.sh", include_str!("differential/scripts/sig.sh")),
    ("sleeps.sh", include_str!("differential/scripts/sleeps.sh")),
    ("tcp.pl", include_str!("differential/scripts/tcp.pl")),
    ("text.sh", include_str!("differential/scripts/text.sh")),
    ("writes.sh", include_str!("differential/scripts/writes.sh")),
];

/// The files of `differential/commands/`, copied to `cmd/`: the `q` wrapper (runs its
/// arguments with stdout discarded), shell and perl workloads, and data they read.
const COMMAND_FILES: &[(&str, &[u8])] = &[
    ("q", include_bytes!("differential/commands/q")),
    ("bi.sh", include_bytes!("differential/commands/bi.sh")),
    ("bw.sh", include_bytes!("differential/commands/bw.sh")),
    ("bw2.sh", include_bytes!("differential/commands/bw2.sh")),
    ("neg.sh", include_bytes!("differential/commands/neg.sh")),
    ("fs1.sh", include_bytes!("differential/commands/fs1.sh")),
    ("pipe.sh", include_bytes!("differential/commands/pipe.sh")),
    ("own.sh", include_bytes!("differential/commands/own.sh")),
    ("sig2.sh", include_bytes!("differential/commands/sig2.sh")),
    ("dd1.sh", include_bytes!("differential/commands/dd1.sh")),
    ("mk.sh", include_bytes!("differential/commands/mk.sh")),
    ("lk.sh", include_bytes!("differential/commands/lk.sh")),
    ("pl1.pl", include_bytes!("differential/commands/pl1.pl")),
    ("data.txt", include_bytes!("differential/commands/data.txt")),
    ("bin.txt", include_bytes!("differential/commands/bin.txt")),
];

/// A path longer than a 64-byte string, for truncation cases.
const LONG_PATH: &str = "w/a_rather_long_directory_name_for_testing_string_truncation_in_bpf/sub_directory_level_two/file_with_a_long_name.txt";

/// Makes the scratch folder `dir` with `scripts/` and `cmd/` (paths rewritten) and
/// `scratch/`.
fn prepare(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let text = dir.display().to_string();
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::create_dir_all(dir.join("scratch")).unwrap();
    for (name, body) in SCRIPTS {
        std::fs::write(dir.join("scripts").join(name), body.replace("@DIR@", &text)).unwrap();
    }
    let cmd = dir.join("cmd");
    std::fs::create_dir_all(cmd.join(LONG_PATH).parent().unwrap()).unwrap();
    for (name, body) in COMMAND_FILES {
        let body = match std::str::from_utf8(body) {
            Ok(text_body) => text_body.replace("@DIR@", &text).into_bytes(),
            Err(_) => body.to_vec(),
        };
        std::fs::write(cmd.join(name), body).unwrap();
    }
    let q = cmd.join("q");
    std::fs::set_permissions(&q, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(cmd.join("big.txt"), format!("{}\n", "x".repeat(200))).unwrap();
    std::fs::write(cmd.join(LONG_PATH), "x\n").unwrap();
    std::fs::write(cmd.join("w/lockfile"), "").unwrap();
}

/// `tool -c command -e program`: its normalized stdout, or why it failed.
fn traced(tool: &[&str], command: &str, program: &str) -> Result<String, String> {
    let out = Command::new(tool[0])
        .args(&tool[1..])
        .args(["-c", command, "-e", program])
        .output()
        .expect("the tracer starts");
    if !out.status.success() {
        return Err(format!("{tool:?} failed on {program}: {}", stderr(&out)));
    }
    Ok(normalized(&stdout(&out)))
}

#[test]
fn commands_are_traced_as_bpftrace_traces_them() {
    let test = "commands_are_traced_as_bpftrace_traces_them";
    if !kernel_available(test) || !tool_available(test, "bpftrace") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ebpfc-tc{}", std::process::id()));
    prepare(&dir);
    let text = dir.display().to_string();
    let cases = cases();
    let mut failures = Vec::new();
    for (command, program) in &cases {
        let (command, program) = (
            command.replace("@DIR@", &text),
            program.replace("@DIR@", &text),
        );
        let case = format!("-c {command} -e {program}");
        check_case(&case, &mut failures, |tool| {
            traced(tool, &command, &program)
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    report("traced commands", cases.len(), &failures);
}
