//! Differential tests of programs tracing a command started with `-c`: each case of
//! `differential/commands.tsv` is `COMMAND<TAB>PROGRAM`, run as `-c COMMAND -e PROGRAM`
//! under Debian's `bpftrace` (0.17) and under ebpfc on every backend; stdout must be the
//! same (ignoring the `Attaching` line and trailing spaces).
//!
//! The commands are pinned to one CPU and run with an empty environment, so their
//! events arrive in one order and their system calls do not depend on the caller's
//! locale. Some run the scripts of `differential/scripts/`, copied with `@DIR@` (in the
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

/// Makes the scratch folder `dir` with `scripts/` (paths rewritten) and `scratch/`.
fn prepare(dir: &Path) {
    let text = dir.display().to_string();
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::create_dir_all(dir.join("scratch")).unwrap();
    for (name, body) in SCRIPTS {
        std::fs::write(dir.join("scripts").join(name), body.replace("@DIR@", &text)).unwrap();
    }
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
    let ebpfc = env!("CARGO_BIN_EXE_ebpfc");
    let cases = cases();
    let mut failures = Vec::new();
    for (command, program) in &cases {
        let (command, program) = (
            command.replace("@DIR@", &text),
            program.replace("@DIR@", &text),
        );
        let want = match traced(&["bpftrace"], &command, &program) {
            Ok(want) => want,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for backend in backends() {
            match traced(&[ebpfc, "--backend", backend], &command, &program) {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!(
                    "-c {command} -e {program}\n--- bpftrace\n{want}--- ebpfc ({backend})\n{got}"
                )),
                Err(e) => failures.push(e),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    report("traced commands", cases.len(), &failures);
}
