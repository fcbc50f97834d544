//! Shared by the codegen tests that need the live kernel: whether they may run (root),
//! announcing a skip or failing under `EBPFC_REQUIRE_KERNEL=1`, and loading an object's
//! programs into the verifier.

#![allow(dead_code)]

use aya::programs::Program;
use std::io::Write;

/// Whether the effective uid is 0.
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid.and_then(|ids| ids.split_whitespace().nth(1)) == Some("0")
}

/// Whether kernel tests can run; announces a skip, or panics under `EBPFC_REQUIRE_KERNEL=1`.
pub fn kernel_available(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{test}: not running as root, and EBPFC_REQUIRE_KERNEL=1");
    }
    let banner = format!("\n*** SKIPPED {test}: not running as root ***\n");
    let _ = std::io::stderr().write_all(banner.as_bytes());
    false
}

/// Loads every program of `object` into the kernel; the number loaded. fentry/fexit
/// programs are skipped (the kernel refuses them under lockdown).
pub fn load_all(name: &str, object: &[u8]) -> Result<usize, String> {
    let mut ebpf = aya::Ebpf::load(object).map_err(|e| format!("{name}: {e}"))?;
    let mut loaded = 0;
    for (program, p) in ebpf.programs_mut() {
        let result = match p {
            Program::RawTracePoint(p) => p.load(),
            Program::TracePoint(p) => p.load(),
            Program::PerfEvent(p) => p.load(),
            Program::KProbe(p) => p.load(),
            Program::UProbe(p) => p.load(),
            _ => continue,
        };
        result.map_err(|e| format!("{name}/{program}: {e:?}"))?;
        loaded += 1;
    }
    Ok(loaded)
}
