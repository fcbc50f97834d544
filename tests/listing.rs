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

#[test]
fn usdt_listings_name_provider_and_probe() {
    let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .find_map(|p| std::fs::canonicalize(p).ok())
    else {
        eprintln!("!!! SKIPPED usdt_listings_name_provider_and_probe: no python3");
        return;
    };
    let python = python.display().to_string();
    let out = ebpfc(&["-l", &format!("usdt:{python}:*")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    if text.is_empty() {
        eprintln!("!!! SKIPPED usdt_listings_name_provider_and_probe: {python} has no notes");
        return;
    }
    let prefix = format!("usdt:{python}:");
    assert!(text.lines().all(|l| l.starts_with(&prefix)), "{text}");
    let entry = format!("usdt:{python}:python:function__entry");
    let filtered = ebpfc(&["-l", &format!("usdt:{python}:python:function__e*")]);
    assert_eq!(stdout(&filtered), format!("{entry}\n"));
    let out = ebpfc(&["-l", "usdt"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("need a binary"), "{}", stderr(&out));
}

#[test]
fn iterators_are_listed() {
    let out = ebpfc(&["-l", "iter:task*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "iter:task\niter:task_file\niter:task_vma\n");
}
