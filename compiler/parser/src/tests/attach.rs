//! Attach points: every probe form of the language, paths, wildcards, offsets and
//! quoted parts, split into provider and parts.

use super::{errors, first_probe, ok};
use crate::ast::AttachPoint;

fn attach(header: &str) -> Vec<AttachPoint> {
    first_probe(ok(&format!("{header} {{ }}"))).attach
}

/// The provider and parts of a single attach point.
fn split(header: &str) -> (String, Vec<String>) {
    let mut points = attach(header);
    assert_eq!(points.len(), 1, "{header}");
    let p = points.remove(0);
    assert_eq!(p.raw, header);
    (p.provider, p.parts)
}

fn check(header: &str, provider: &str, parts: &[&str]) {
    let (p, ps) = split(header);
    assert_eq!(
        (p.as_str(), ps),
        (provider, parts.iter().map(|s| s.to_string()).collect()),
        "{header}"
    );
}

#[test]
fn special_probes() {
    check("BEGIN", "BEGIN", &[]);
    check("END", "END", &[]);
    check("begin", "begin", &[]);
    check("end", "end", &[]);
}

#[test]
fn kernel_probes() {
    check(
        "tracepoint:syscalls:sys_enter_openat",
        "tracepoint",
        &["syscalls", "sys_enter_openat"],
    );
    check("t:syscalls:sys_enter_*", "t", &["syscalls", "sys_enter_*"]);
    check(
        "rawtracepoint:sched_switch",
        "rawtracepoint",
        &["sched_switch"],
    );
    check("rt:mod:event", "rt", &["mod", "event"]);
    check("kprobe:vfs_read", "kprobe", &["vfs_read"]);
    check("kprobe:mod:fn+0x10", "kprobe", &["mod", "fn+0x10"]);
    check("kretprobe:vfs_*", "kretprobe", &["vfs_*"]);
    check(
        "k:lookup_fast.constprop.*",
        "k",
        &["lookup_fast.constprop.*"],
    );
    check("kr:f", "kr", &["f"]);
    check(
        "fentry:vmlinux:do_nanosleep",
        "fentry",
        &["vmlinux", "do_nanosleep"],
    );
    check("kfunc:f", "kfunc", &["f"]);
    check("fr:f", "fr", &["f"]);
}

#[test]
fn user_probes() {
    check(
        "uprobe:/bin/bash:readline",
        "uprobe",
        &["/bin/bash", "readline"],
    );
    check(
        "uprobe:/bin/bash:readline+0x10",
        "uprobe",
        &["/bin/bash", "readline+0x10"],
    );
    check("uretprobe:libc:malloc", "uretprobe", &["libc", "malloc"]);
    check("uprobe:bin:0xADDR", "uprobe", &["bin", "0xADDR"]);
    check("u:/lib/*/libc.so.6:*", "u", &["/lib/*/libc.so.6", "*"]);
    check("ur:./a.out:main", "ur", &["./a.out", "main"]);
    check("uprobe:$1:main", "uprobe", &["$1", "main"]);
    check("usdt:/bin/x:prov:name", "usdt", &["/bin/x", "prov", "name"]);
    check("U:/bin/x:name", "U", &["/bin/x", "name"]);
    check(
        "uprobe:/bin/x:\"ns::f(int)\"",
        "uprobe",
        &["/bin/x", "ns::f(int)"],
    );
}

#[test]
fn timed_and_other_probes() {
    check("profile:hz:99", "profile", &["hz", "99"]);
    check("p:ms:10", "p", &["ms", "10"]);
    check("interval:s:1", "interval", &["s", "1"]);
    check("i:ms:100", "i", &["ms", "100"]);
    check(
        "software:cpu-clock:100000",
        "software",
        &["cpu-clock", "100000"],
    );
    check("s:page-faults:1", "s", &["page-faults", "1"]);
    check(
        "hardware:cycles:1000000",
        "hardware",
        &["cycles", "1000000"],
    );
    check("watchpoint:0x1000:8:w", "watchpoint", &["0x1000", "8", "w"]);
    check("w:0x1000:8:rw", "w", &["0x1000", "8", "rw"]);
    check("iter:task_file", "iter", &["task_file"]);
    check("it:task", "it", &["task"]);
    check("self:signal:SIGUSR1", "self", &["signal", "SIGUSR1"]);
}

#[test]
fn paths_end_before_a_predicate() {
    let probe = first_probe(ok("uprobe:/bin/bash:readline /pid == 1/ { }"));
    assert_eq!(probe.attach[0].raw, "uprobe:/bin/bash:readline");
    assert!(probe.predicate.is_some());
    let probe = first_probe(ok("uprobe:/bin/bash:readline/pid/{ }"));
    assert_eq!(probe.attach[0].raw, "uprobe:/bin/bash:readline");
    assert!(probe.predicate.is_some());
}

#[test]
fn lists_mix_kinds() {
    let points = attach("BEGIN,kprobe:f, uprobe:/bin/sh:main ,\n\t tracepoint:a:*");
    let raws: Vec<&str> = points.iter().map(|p| p.raw.as_str()).collect();
    assert_eq!(
        raws,
        ["BEGIN", "kprobe:f", "uprobe:/bin/sh:main", "tracepoint:a:*"]
    );
}

#[test]
fn incomplete_attach_points_are_reported() {
    assert_eq!(
        errors("kprobe: { }"),
        ["1:1: incomplete attach point 'kprobe:'"]
    );
    assert_eq!(
        errors("tracepoint:syscalls: { }"),
        ["1:1: incomplete attach point 'tracepoint:syscalls:'"]
    );
    assert_eq!(
        errors(":f { }"),
        ["1:1: attach point ':f' has no probe type"]
    );
    assert_eq!(errors("{ }"), ["1:1: expected a probe"]);
    assert_eq!(errors("BEGIN, , { }"), ["1:8: expected a probe"]);
    assert_eq!(
        errors("uprobe:/x:\"f { }"),
        ["1:1: unterminated quote in attach point 'uprobe:/x:\"f { }'"]
    );
}
