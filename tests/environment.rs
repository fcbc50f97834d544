//! What bpftrace reads besides the program, end to end: its environment variables
//! (`BPFTRACE_MAP_KEYS_MAX`, `BPFTRACE_CAT_BYTES_MAX`, bad values refused) and the
//! preprocessor's flags (`-I DIR` for `#include <x.h>`, `--include FILE`).

mod common;

use common::*;
use std::process::{Command, Output};

fn ebpfc_with_env(var: &str, value: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpfc"))
        .args(args)
        .env(var, value)
        .output()
        .expect("ebpfc runs")
}

/// A scratch folder of this test process holding `name` with `text`.
fn scratch_file(test: &str, name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpfc-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
    dir
}

#[test]
fn map_keys_max_sizes_every_map() {
    if !kernel_available("map_keys_max_sizes_every_map") {
        return;
    }
    let program = "BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; exit(); }";
    let capped = ebpfc_with_env("BPFTRACE_MAP_KEYS_MAX", "2", &["-q", "-e", program]);
    assert_eq!(stdout(&capped), "\n\n@x[1]: 1\n@x[2]: 2\n");
    assert!(stderr(&capped).contains("map @x was full: 1 update(s) were dropped"));
    let declared = format!("let @x = hash(3); {program}");
    let sized = ebpfc_with_env("BPFTRACE_MAP_KEYS_MAX", "2", &["-q", "-e", &declared]);
    assert_eq!(stdout(&sized), "\n\n@x[1]: 1\n@x[2]: 2\n@x[3]: 3\n");
    let bad = ebpfc_with_env("BPFTRACE_MAP_KEYS_MAX", "many", &["-e", program]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("BPFTRACE_MAP_KEYS_MAX must be a positive number, not 'many'"));
}

#[test]
fn cat_bytes_max_cuts_files() {
    if !kernel_available("cat_bytes_max_cuts_files") {
        return;
    }
    let dir = scratch_file("cat", "ten", "abcdefghij");
    let program = format!(
        "BEGIN {{ cat(\"{}\"); exit(); }}",
        dir.join("ten").display()
    );
    let out = ebpfc_with_env("BPFTRACE_CAT_BYTES_MAX", "4", &["-q", "-e", &program]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(stdout(&out), "abcd\n\n");
}

#[test]
fn include_directories_and_forced_includes_define_macros() {
    let dir = scratch_file(
        "inc",
        "limits.h",
        "#define LIMIT 42\n#define NAME \"lim\"\n",
    );
    let program = "#include <limits.h>\nBEGIN { printf(\"%d\\n\", LIMIT); }";
    let dir_arg = dir.display().to_string();
    let found = ebpfc(&["--check", "-I", &dir_arg, "-e", program]);
    let missing = ebpfc(&["--check", "-e", program]);
    let forced_path = dir.join("limits.h").display().to_string();
    let forced = ebpfc(&[
        "--dump",
        "ast",
        "--include",
        &forced_path,
        "-e",
        "BEGIN { printf(\"%s %d\\n\", NAME, LIMIT); }",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(stderr(&missing).contains("LIMIT"), "{}", stderr(&missing));
    let ast = stdout(&forced);
    assert!(ast.contains("\"lim\"") && ast.contains("42"), "{ast}");
}
