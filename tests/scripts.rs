//! Differential tests of script files as tools are written (shebang, comments,
//! `#include`, `#define` and `#if`, C definitions, headers printed in BEGIN, END
//! summaries) run with bpftrace's options (`-q`, `-f json`, `-B`, `-o`, `--unsafe`,
//! positional parameters, `-c`). Each line of `differential/scripts.jsonl` is one case:
//! `{"script": ..., "flags": [...], "params": [...], "command": ... or null}`, with
//! `"outfile"` when `-o` sends the output to that file. The script is written to a file
//! and run as `TOOL FLAGS [-c COMMAND] FILE PARAMS` under Debian's `bpftrace` (0.17) and
//! under ebpfc on every backend; the output must be the same (ignoring the `Attaching`
//! line and trailing spaces).
//!
//! `differential/scripts-setup.sh` makes the files the cases read, include and run in a
//! scratch folder of this test process, which `@DIR@` stands for in the cases. Cases run
//! one after the other, in that folder.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One case of `differential/scripts.jsonl`, with `@DIR@` replaced.
struct Case {
    script: String,
    flags: Vec<String>,
    params: Vec<String>,
    command: Option<String>,
    outfile: Option<String>,
}

fn cases(dir: &str) -> Vec<Case> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(|s| s.replace("@DIR@", dir)))
            .collect()
    };
    include_str!("differential/scripts.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object a line");
            let text = |key: &str| v[key].as_str().map(|s| s.replace("@DIR@", dir));
            Case {
                script: text("script").expect("a script"),
                flags: strings(&v["flags"]),
                params: strings(&v["params"]),
                command: text("command"),
                outfile: text("outfile"),
            }
        })
        .collect()
}

/// Makes the scratch folder `dir` with the files the cases use.
fn prepare(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let text = dir.display().to_string();
    let setup = include_str!("differential/scripts-setup.sh").replace("@DIR@", &text);
    let status = Command::new("sh")
        .args(["-c", &setup, "setup", &text])
        .status()
        .expect("sh runs");
    assert!(status.success(), "the scripts' setup failed");
}

/// Runs `case` with `tool` in `dir`: its normalized output, or why it failed.
fn run_case(tool: &[&str], case: &Case, dir: &Path) -> Result<String, String> {
    let script = dir.join("case.bt");
    std::fs::write(&script, &case.script).unwrap();
    let outfile = case.outfile.as_ref().map(|name| dir.join(name));
    if let Some(path) = &outfile {
        let _ = std::fs::remove_file(path);
    }
    let mut command = Command::new(tool[0]);
    command.args(&tool[1..]).args(&case.flags).current_dir(dir);
    if let Some(c) = &case.command {
        command.args(["-c", c]);
    }
    let out = command
        .arg(&script)
        .args(&case.params)
        .output()
        .expect("the tool starts");
    if !out.status.success() {
        return Err(format!(
            "{tool:?} failed on {}: {}",
            case.script,
            stderr(&out)
        ));
    }
    let text = match outfile {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("no output file: {e}"))?,
        None => stdout(&out),
    };
    Ok(normalized(&text))
}

#[test]
fn scripts_print_what_bpftrace_prints() {
    let test = "scripts_print_what_bpftrace_prints";
    if !kernel_available(test) || !tool_available(test, "bpftrace") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ebpfc-sc{}", std::process::id()));
    prepare(&dir);
    let cases = cases(&dir.display().to_string());
    let mut failures = Vec::new();
    for case in &cases {
        let what = format!(
            "{:?} {:?} -c {:?}\n{}",
            case.flags, case.params, case.command, case.script
        );
        check_case(&what, &mut failures, |tool| run_case(tool, case, &dir));
    }
    let _ = std::fs::remove_dir_all(&dir);
    report("scripts", cases.len(), &failures);
}
