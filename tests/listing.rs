//! `-l` and `-lv` against the live kernel: tracepoint fields with their types, kprobe
//! wildcards over the kernel's function list, and patterns that match nothing.

mod common;

use common::*;

#[test]
fn verbose_tracepoint_listing_shows_field_types() {
    if !kernel_available("verbose_tracepoint_listing_shows_field_types") {
        return;
    }
    let out = ebpfc(&["-lv", "tracepoint:syscalls:sys_enter_openat"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("tracepoint:syscalls:sys_enter_openat"));
    let fields: Vec<&str> = lines.collect();
    assert!(
        fields.contains(&"    const char * filename"),
        "filename and its type in {text:?}"
    );
    assert!(fields.iter().all(|f| f.starts_with("    ")), "{text:?}");
}

#[test]
fn kprobe_wildcards_list_kernel_functions() {
    if !kernel_available("kprobe_wildcards_list_kernel_functions") {
        return;
    }
    let out = ebpfc(&["-l", "kprobe:vfs_read*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().any(|l| l == "kprobe:vfs_read"), "{text:?}");
    assert!(text.lines().all(|l| l.starts_with("kprobe:")), "{text:?}");
}

#[test]
fn patterns_matching_nothing_print_nothing_and_unknown_kinds_fail() {
    let out = ebpfc(&["-l", "tracepoint:no_such_category:*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let out = ebpfc(&["-l", "tracepiont:*"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean tracepoint?"),
        "{}",
        stderr(&out)
    );
}
