//! The ebpfc runtime: loads an object, attaches its probes, streams its events and
//! prints its maps. It reads only the ELF and its `.ebpfc` metadata, never source.
//!
//! Modules, in the order a run uses them: `metadata` (the `.ebpfc` section),
//! `setup` (privileges, memlock, tracefs), `programs` (aya load, BEGIN/END and signal
//! test runs, iterators), `attach` (every other probe; `perf_attach` for those on
//! ebpfc's own perf events), `events` (ring buffer), `maps` (map dumps), [`output`]
//! (rendering), `symbols` (stack frames and symbol names for the renderer); `session`
//! sequences them and `sys` is the only place for raw syscalls.

mod attach;
mod child;
mod error;
mod events;
mod maps;
mod metadata;
pub mod output;
mod perf_attach;
mod programs;
mod session;
mod setup;
mod sink;
mod symbols;
mod sys;

use std::io::Write;

pub use child::PausedChild;
pub use ebpfc_stdlib::meta::Metadata;
pub use error::{Rejection, RuntimeError};
pub use metadata::read_metadata;

/// How a run behaves and prints.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub format: output::OutputFormat,
    /// Do not print the `Attaching N probes...` line (`attached_probes` in JSON).
    pub quiet: bool,
    /// Write each event's output as soon as it is handled (else only before waits, at
    /// the end, or when stdout is a terminal).
    pub flush_each_event: bool,
    /// Load and attach every probe, then stop without running BEGIN/END or printing maps.
    pub dry_run: bool,
    /// `-p PID`: uprobes fire only in this process, and the run ends when it exits. It
    /// must exist when the run starts.
    pub pid: Option<u32>,
    /// `-o FILE`: the two blank lines that start the exit map dump go to this process's
    /// stdout rather than to the output, as bpftrace 0.17 writes them.
    pub dump_blank_lines_to_stdout: bool,
    /// The most bytes `cat()` prints of a file; bpftrace's 10k when `None`.
    pub cat_bytes_max: Option<u64>,
}

/// Fails with [`RuntimeError::MissingPrivilege`] unless this process may load and attach
/// BPF programs (root, CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON).
pub fn check_privileges() -> Result<(), RuntimeError> {
    setup::check_privileges()
}

/// Mounts tracefs at `/sys/kernel/tracing` when it is missing (tracepoint formats are
/// read from it at compile time too).
pub fn mount_tracefs() -> Result<(), RuntimeError> {
    setup::ensure_tracefs(std::path::Path::new(setup::TRACEFS))
}

/// Runs the ebpfc object `elf` until `exit()`, SIGINT, SIGTERM or the exit of the `-p`
/// process, writing everything bpftrace writes to stdout to `out`: the `attached_probes`
/// line in JSON (unless quiet), the events and the final map dump. `out` is buffered:
/// each event is flushed at once when this process's stdout is a terminal, otherwise
/// output is flushed whenever the run waits for events, and at the end.
/// Returns the process exit code: the `exit(code)` value, else 0.
pub fn run(elf: &[u8], opts: &RunOptions, out: &mut dyn Write) -> Result<i32, RuntimeError> {
    session::run(elf, opts, None, out)
}

/// [`run`] with the `-c` command, which runs once every probe is attached; the run
/// ends when it exits.
pub fn run_with_child(
    elf: &[u8],
    opts: &RunOptions,
    child: &mut PausedChild,
    out: &mut dyn Write,
) -> Result<i32, RuntimeError> {
    session::run(elf, opts, Some(child), out)
}
