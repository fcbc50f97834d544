//! `-l [PATTERN]` and `-lv`: prints the probes the compiler's listing finds on this
//! machine, one per line, each followed by its arguments (indented four spaces) with
//! `-v`. A pattern matching nothing prints nothing and succeeds, as bpftrace does.

use ebpfc_compiler::btf::KernelTypes;
use ebpfc_compiler::listing::{self, ListSources};
use ebpfc_compiler::probes::ksyms::KernelSymbols;
use std::io::Write;

/// Lists the probes matching `pattern`; returns the exit code, or the error to print.
pub fn run(pattern: Option<&str>, verbose: bool) -> Result<u8, String> {
    // Without tracefs (or the privilege to mount it) no tracepoint is listed.
    let _ = ebpfc_runtime::mount_tracefs();
    let root = listing::system_tracefs_root();
    let btf = KernelTypes::system().ok();
    let sources = ListSources {
        tracefs_root: &root,
        btf: btf.as_ref(),
        kernel_symbols: &|| KernelSymbols::system(),
    };
    let found = listing::list(pattern, verbose, &sources).map_err(|e| format!("error: {e}"))?;
    let mut text = String::new();
    for probe in found {
        text.push_str(&probe.name);
        text.push('\n');
        for arg in probe.args.iter().filter(|_| verbose) {
            text.push_str("    ");
            text.push_str(arg);
            text.push('\n');
        }
    }
    // A closed pipe (`ebpfc -l | head`) is not an error.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(0)
}
