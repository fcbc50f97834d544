//! Bad input of every kind exits non-zero with a diagnostic naming the problem and its
//! place, never a panic. These need no kernel: they fail before anything is loaded.

mod common;

use common::*;

fn assert_diagnostic(program: &str, needle: &str) {
    let out = ebpfc(&["--check", "-e", program]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{program}: expected failure");
    assert!(!err.contains("panicked"), "{program}: {err}");
    assert!(err.contains("error"), "{program}: {err}");
    assert!(
        err.contains(needle),
        "{program}: expected {needle:?} in {err}"
    );
}

#[test]
fn syntax_errors_name_their_line_and_column() {
    for (program, place) in [
        (r#"BEGIN { printf("x" }"#, "1:"),
        ("BEGIN { $x = 1 +* 2; }", "1:"),
        ("BEGIN { if ($x { } }", "1:"),
        (r#"BEGIN { "unterminated }"#, "1:"),
        ("kprobe: { }", "1:"),
        ("BEGIN { 0xZZ; }", "1:"),
    ] {
        assert_diagnostic(program, place);
    }
}

#[test]
fn type_errors_show_both_places() {
    assert_diagnostic(r#"BEGIN { @x = 1; @x = "str"; }"#, "but a string here");
}

#[test]
fn cpid_without_a_command_names_the_flag() {
    assert_diagnostic(
        "BEGIN { print(cpid); }",
        "cpid is the pid of the command -c runs",
    );
}

#[test]
fn unknown_names_get_suggestions() {
    assert_diagnostic("BEGIN { @x = pidd; }", "did you mean 'pid'?");
    assert_diagnostic("BEGIN { @x = count(1, 2); }", "count() takes 0 argument(s)");
}

#[test]
fn missing_files_are_reported() {
    let out = ebpfc(&["/nonexistent/script.bt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read /nonexistent/script.bt"));
}

#[test]
fn delete_takes_as_many_keys_as_the_map_has() {
    assert_diagnostic(
        "BEGIN { @x[1] = 1; delete(@x); }",
        "@x has keys: delete one entry with delete(@x[key]), or all with clear(@x)",
    );
    assert_diagnostic("BEGIN { @x = 1; delete(@x[1]); }", "@x has no keys");
}

#[test]
fn a_string_variable_holds_only_strings() {
    assert_diagnostic(
        "BEGIN { let $s: string = 5; }",
        "a string variable cannot hold int64",
    );
}

#[test]
fn string_sizes_are_checked() {
    assert_diagnostic(
        "config = { max_strlen = 5000 } BEGIN { }",
        "the string size must be from 2 to 1024 bytes, not 5000",
    );
    assert_diagnostic(
        "config = { max_strlen = -1 } BEGIN { }",
        "max_strlen must be a positive integer",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebpfc"))
        .args(["--check", "-e", "BEGIN { }"])
        .env("BPFTRACE_STRLEN", "lots")
        .output()
        .expect("ebpfc runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("BPFTRACE_STRLEN must be a positive number, not 'lots'"));
}

#[test]
fn path_needs_a_struct_path_the_kernel_can_resolve() {
    assert_diagnostic(
        "kprobe:vfs_open { printf(\"%s\\n\", path(arg0)); }",
        "path() can only be used in fentry, fexit, iter probes",
    );
    assert_diagnostic(
        "iter:task_file { printf(\"%s\\n\", path(ctx->file)); }",
        "path() needs a struct path reached from a function argument",
    );
}
