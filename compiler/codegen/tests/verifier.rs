//! The kernel's verifier accepts every program the direct backend emits for the corpus
//! (snapshot cases, benchmark programs, examples, programs aimed at the optimizations):
//! the cleanup keeps buffers initialized before helpers read them and map value and
//! context pointers addressed as the verifier tracks them. Needs root; skipped loudly
//! otherwise, failing instead when `EBPFC_REQUIRE_KERNEL=1`. fentry/fexit programs are
//! not loaded (the kernel refuses them under lockdown).

mod corpus;

use aya::programs::Program;
use ebpfc_codegen::Backend;
use std::io::Write;

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    uid.and_then(|ids| ids.split_whitespace().nth(1)) == Some("0")
}

/// Whether kernel tests can run; announces a skip, or panics under `EBPFC_REQUIRE_KERNEL=1`.
fn kernel_available(test: &str) -> bool {
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

/// Loads every program of `object`; the number loaded.
fn load_all(name: &str, object: &[u8]) -> Result<usize, String> {
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

#[test]
fn kernel_verifier_accepts_direct_backend_programs() {
    if !kernel_available("kernel_verifier_accepts_direct_backend_programs") {
        return;
    }
    let (mut failures, mut loaded) = (Vec::new(), 0);
    for (name, module) in corpus::corpus() {
        let object = ebpfc_codegen::emit(&module, Backend::Bytecode)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match load_all(&name, &object) {
            Ok(n) => loaded += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(loaded > 50, "only {loaded} programs loaded");
    eprintln!("the verifier accepted {loaded} programs of the direct backend");
}
