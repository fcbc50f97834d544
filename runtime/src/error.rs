//! [`RuntimeError`], the user-facing errors of the runtime, and the helpers that turn
//! kernel errno values and aya error chains into words.
//!
//! Invariant: every message names what failed (the probe, program, map or file) and why,
//! in words a user can act on; raw errno numbers appear only when no words are known.

use std::error::Error;
use std::io;

/// Everything that can stop [`crate::run`].
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The input is not an ELF object produced by ebpfc.
    #[error("not an ebpfc object: {0}")]
    NotAnObject(String),
    /// The `.ebpfc` section is unreadable or contradicts the object.
    #[error("{0}")]
    Metadata(String),
    /// The command given with `-c` could not be started.
    #[error("cannot run command `{command}`: {reason}")]
    Command { command: String, reason: String },
    /// The process lacks the capabilities needed to load and attach BPF programs.
    #[error(
        "missing privilege: ebpfc needs {missing} to load and attach BPF programs; \
         run ebpfc as root (or grant CAP_BPF and CAP_PERFMON)"
    )]
    MissingPrivilege { missing: String },
    /// The process given with `-p` does not exist.
    #[error("no process with pid {pid} exists (-p {pid})")]
    NoProcess { pid: u32 },
    /// The process given with `-p` cannot be watched.
    #[error("cannot watch process {pid} (-p {pid}): {reason}")]
    Process { pid: u32, reason: String },
    /// tracefs is not mounted and mounting it failed.
    #[error("tracefs is not available and cannot be mounted at {path}: {reason}")]
    Tracefs { path: String, reason: String },
    /// aya could not parse the object or create its maps.
    #[error("cannot load the object: {0}")]
    Object(String),
    /// The verifier rejected a program.
    #[error(
        "the kernel verifier rejected the program `{}` of probe {}: {}\n\
         verifier log (last lines):\n{}",
        .0.program, .0.probe, .0.reason, .0.log
    )]
    Verifier(Box<Rejection>),
    /// The kernel refused an fentry/fexit program (e.g. under lockdown).
    #[error("the kernel refused the fentry/fexit program `{program}` of probe {probe}: {reason}")]
    FentryRefused {
        probe: String,
        program: String,
        reason: String,
    },
    /// A program could not be loaded for another reason than the verifier.
    #[error("cannot load the program `{program}` of probe {probe}: {reason}")]
    Load {
        probe: String,
        program: String,
        reason: String,
    },
    /// A probe could not be attached.
    #[error("cannot attach probe {probe}: {reason}")]
    Attach { probe: String, reason: String },
    /// A BEGIN or END program could not be run.
    #[error("cannot run probe {probe}: {reason}")]
    TestRun { probe: String, reason: String },
    /// A map could not be opened or read.
    #[error("cannot read map {map}: {reason}")]
    Map { map: String, reason: String },
    /// The event ring buffer could not be opened or polled.
    #[error("cannot read events from ring buffer `{map}`: {reason}")]
    Events { map: String, reason: String },
    /// The SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot install the SIGINT/SIGTERM handlers: {0}")]
    Signals(String),
    /// Writing results to the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
}

/// A program the verifier rejected, and why.
#[derive(Debug)]
pub struct Rejection {
    pub probe: String,
    pub program: String,
    /// The load's errno in words.
    pub reason: String,
    /// The last lines of the verifier log.
    pub log: String,
    /// The verifier's own last words (e.g. `R1 invalid mem access 'scalar'`).
    pub message: String,
    /// The source spans (start, end) of the statements the rejection is about, most
    /// relevant first: the one the verifier stopped in, or the loops of a program too
    /// long to verify. Empty when the object records no source.
    pub spans: Vec<(u32, u32)>,
}

/// Words for a kernel errno, with a hint where the usual cause is known.
pub(crate) fn errno_words(errno: i32) -> String {
    let words = match errno {
        libc::EPERM => "operation not permitted (are you root / CAP_BPF+CAP_PERFMON?)",
        libc::EACCES => "permission denied",
        libc::ENOENT => "not found",
        libc::ESRCH => "no such process or symbol",
        libc::EINVAL => "invalid argument (the kernel rejected the request)",
        libc::E2BIG => "too big for the kernel (argument list too long)",
        libc::ENOMEM => "out of memory (is the locked-memory limit too low?)",
        libc::EBUSY => "resource busy",
        libc::EEXIST => "already exists",
        libc::ENODEV => "no such device",
        libc::EMFILE | libc::ENFILE => "too many open files (raise `ulimit -n`)",
        libc::EOPNOTSUPP | ENOTSUPP => "operation not supported by this kernel",
        libc::ENOSPC => "no space left (a map or buffer is full)",
        _ => return io::Error::from_raw_os_error(errno).to_string(),
    };
    words.to_string()
}

/// The kernel-internal "not supported" errno that leaks to user space from BPF calls.
pub(crate) const ENOTSUPP: i32 = 524;

/// Words for an I/O error: its errno in words, or its own message.
pub(crate) fn io_words(err: &io::Error) -> String {
    err.raw_os_error()
        .map_or_else(|| err.to_string(), errno_words)
}

/// The first errno found along an error's source chain.
pub(crate) fn errno_of(err: &(dyn Error + 'static)) -> Option<i32> {
    chain(err).find_map(|e| {
        e.downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
    })
}

/// Joins the messages along an error's source chain, with errno values in words and
/// messages that repeat their successor dropped.
pub(crate) fn describe(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(err) {
        let text = match e.downcast_ref::<io::Error>() {
            Some(io) => io_words(io),
            None => e.to_string(),
        };
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn chain<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// The last `max` non-empty lines of a verifier log.
pub(crate) fn log_tail(log: &str, max: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(max);
    if lines.is_empty() {
        return "(the kernel produced no verifier log)".to_string();
    }
    lines[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("`perf_event_open` failed")]
    struct Outer(#[source] io::Error);

    #[test]
    fn eperm_mentions_privileges() {
        assert!(errno_words(libc::EPERM).contains("CAP_BPF"));
    }

    #[test]
    fn unknown_errno_falls_back_to_strerror() {
        assert!(!errno_words(libc::EXDEV).is_empty());
    }

    #[test]
    fn chains_are_described_with_errno_words() {
        let err = Outer(io::Error::from_raw_os_error(libc::EPERM));
        let text = describe(&err);
        assert!(
            text.starts_with("`perf_event_open` failed: operation not permitted"),
            "{text}"
        );
        assert_eq!(errno_of(&err), Some(libc::EPERM));
    }

    #[test]
    fn log_tail_keeps_last_lines() {
        assert_eq!(log_tail("a\n\nb\nc\n", 2), "b\nc");
        assert!(log_tail("", 5).contains("no verifier log"));
    }
}
