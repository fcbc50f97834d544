//! Probes attached through ebpfc's own perf events ([`crate::sys::perf`]): tracepoints,
//! uprobes at file offsets (functions found in the file's symbols, USDT sites with
//! their semaphore counters) and watchpoints (hardware breakpoints).
//!
//! Invariants: an attachment owns its BPF link and its perf event separately;
//! [`PerfAttachment::detach`] closes the link, which takes the program off the event
//! at once, and hands back the event, which the session releases once its output is
//! written (the kernel's release of tracepoint and uprobe events is slow, see
//! `sys::perf`). Dropping an attachment closes both, link first.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::setup::TRACEFS;
use crate::sys::perf::{
    disable, link_perf_event, perf_event_open, PerfSpec, PERF_TYPE_BREAKPOINT, PERF_TYPE_TRACEPOINT,
};

/// Where the dynamic PMUs describe themselves.
const PMU_DIR: &str = "/sys/bus/event_source/devices";

/// A program attached to one perf event.
pub(crate) struct PerfAttachment {
    // Field order matters: the link is dropped (closed) before the event.
    link: OwnedFd,
    event: OwnedFd,
}

impl PerfAttachment {
    /// Detaches the program now and returns the event, to be released later.
    pub fn detach(self) -> OwnedFd {
        disable(self.event.as_fd());
        drop(self.link);
        self.event
    }
}

/// Releases perf events whose programs are detached: a few are closed here, more in
/// the background (`sys::perf::release_in_background`), since the kernel takes tens of
/// milliseconds for each.
pub(crate) fn release(events: Vec<OwnedFd>) {
    const CLOSED_HERE: usize = 2;
    if events.len() <= CLOSED_HERE {
        drop(events);
    } else {
        crate::sys::perf::release_in_background(events);
    }
}

/// Why an attachment failed: which step and the kernel's (or file system's) error.
#[derive(Debug)]
pub(crate) struct PerfError {
    pub step: &'static str,
    pub error: io::Error,
}

impl PerfError {
    fn at(step: &'static str) -> impl FnOnce(io::Error) -> PerfError {
        move |error| PerfError { step, error }
    }
}

/// Opens `spec` and attaches `prog` to it.
fn attach(prog: BorrowedFd<'_>, spec: &PerfSpec<'_>) -> Result<PerfAttachment, PerfError> {
    let event = perf_event_open(spec).map_err(PerfError::at("perf_event_open"))?;
    let link = link_perf_event(prog, event.as_fd()).map_err(PerfError::at("bpf_link_create"))?;
    Ok(PerfAttachment { link, event })
}

/// The tracefs id of tracepoint `category:name`.
fn tracepoint_id(category: &str, name: &str) -> Result<u64, PerfError> {
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '.']);
    if !plain(category) || !plain(name) {
        return Err(PerfError::at("tracefs")(io::ErrorKind::NotFound.into()));
    }
    let path = Path::new(TRACEFS)
        .join("events")
        .join(category)
        .join(name)
        .join("id");
    let text = std::fs::read_to_string(path).map_err(PerfError::at("tracefs"))?;
    text.trim()
        .parse()
        .map_err(|_| PerfError::at("tracefs")(io::ErrorKind::InvalidData.into()))
}

/// Attaches `prog` to tracepoint `category:name` (one event: a tracepoint program runs
/// on every CPU whatever the event's CPU).
pub(crate) fn tracepoint(
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
) -> Result<PerfAttachment, PerfError> {
    let spec = PerfSpec {
        kind: PERF_TYPE_TRACEPOINT,
        config: tracepoint_id(category, name)?,
        pid: -1,
        cpu: 0,
        ..Default::default()
    };
    attach(prog, &spec)
}

/// The uprobe PMU: its type and where its `config` takes the return flag and the
/// reference counter offset (`None` on kernels without semaphore support).
struct UprobePmu {
    kind: u32,
    /// The `config` bit of return probes.
    ret_bit: Option<u32>,
    ref_ctr_shift: Option<u32>,
}

impl UprobePmu {
    fn read() -> Result<Self, PerfError> {
        let dir = Path::new(PMU_DIR).join("uprobe");
        let read = |file: &str| std::fs::read_to_string(dir.join(file));
        let kind = read("type")
            .map_err(PerfError::at("the uprobe PMU"))?
            .trim()
            .parse()
            .map_err(|_| PerfError::at("the uprobe PMU")(io::ErrorKind::InvalidData.into()))?;
        let bit = |file: &str| read(file).ok().and_then(|text| config_bit(&text));
        Ok(Self {
            kind,
            ret_bit: bit("format/retprobe"),
            ref_ctr_shift: bit("format/ref_ctr_offset"),
        })
    }
}

/// The first bit of a PMU format file: `config:0` → 0, `config:32-63` → 32.
fn config_bit(text: &str) -> Option<u32> {
    let bits = text.trim().strip_prefix("config:")?;
    bits.split('-').next()?.parse().ok()
}

/// A uprobe (or uretprobe) at a file offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UprobeAt<'a> {
    pub path: &'a str,
    pub offset: u64,
    pub ret: bool,
    /// File offset of a USDT semaphore the kernel counts up while attached.
    pub semaphore: Option<u64>,
}

/// Attaches `prog` as a uprobe at `at`, in process `pid` only, or in all (`-1`).
pub(crate) fn uprobe(
    prog: BorrowedFd<'_>,
    at: UprobeAt<'_>,
    pid: i32,
) -> Result<PerfAttachment, PerfError> {
    let pmu = UprobePmu::read()?;
    let unsupported = |what| PerfError::at(what)(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    let mut config = 0u64;
    if at.ret {
        let bit = pmu
            .ret_bit
            .ok_or_else(|| unsupported("the uretprobe flag"))?;
        config |= 1 << bit;
    }
    if let Some(counter) = at.semaphore {
        let shift = pmu
            .ref_ctr_shift
            .ok_or_else(|| unsupported("the uprobe semaphore counter"))?;
        config |= counter << shift;
    }
    let invalid = || PerfError::at("the path")(io::ErrorKind::InvalidInput.into());
    let path = CString::new(at.path).map_err(|_| invalid())?;
    let spec = PerfSpec {
        kind: pmu.kind,
        config,
        config2: at.offset,
        path: Some(&path),
        pid,
        cpu: if pid == -1 { 0 } else { -1 },
        ..Default::default()
    };
    attach(prog, &spec)
}

/// `HW_BREAKPOINT_*` bits of a watchpoint mode (`r`, `w`, `rw`, `x`).
fn breakpoint_type(mode: &str) -> Option<u32> {
    let mut bits = 0;
    for c in mode.chars() {
        bits |= match c {
            'r' => 1,
            'w' => 2,
            'x' => 4,
            _ => return None,
        };
    }
    (bits != 0 && (bits & 4 == 0 || bits == 4)).then_some(bits)
}

/// Attaches `prog` to a hardware breakpoint on `length` bytes at `address`: in process
/// `pid` on any CPU, or (`pid` -1) on each of `cpus`.
pub(crate) fn watchpoint(
    prog: BorrowedFd<'_>,
    address: u64,
    length: u8,
    mode: &str,
    pid: i32,
    cpus: &[u32],
) -> Result<Vec<PerfAttachment>, PerfError> {
    let invalid = || PerfError::at("the watchpoint")(io::ErrorKind::InvalidInput.into());
    let bp_type = breakpoint_type(mode).ok_or_else(invalid)?;
    let spec = |cpu: i32| PerfSpec {
        kind: PERF_TYPE_BREAKPOINT,
        bp_type,
        config1: address,
        config2: u64::from(length),
        pid,
        cpu,
        ..Default::default()
    };
    if pid != -1 {
        return Ok(vec![attach(prog, &spec(-1))?]);
    }
    cpus.iter()
        .map(|&cpu| attach(prog, &spec(cpu as i32)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmu_format_bits_parse() {
        assert_eq!(config_bit("config:0\n"), Some(0));
        assert_eq!(config_bit("config:32-63\n"), Some(32));
        assert_eq!(config_bit("config1:0-63"), None);
    }

    #[test]
    fn watchpoint_modes_map_to_breakpoint_types() {
        assert_eq!(breakpoint_type("r"), Some(1));
        assert_eq!(breakpoint_type("w"), Some(2));
        assert_eq!(breakpoint_type("rw"), Some(3));
        assert_eq!(breakpoint_type("wr"), Some(3));
        assert_eq!(breakpoint_type("x"), Some(4));
        assert_eq!(breakpoint_type("rx"), None);
        assert_eq!(breakpoint_type(""), None);
        assert_eq!(breakpoint_type("q"), None);
    }

    #[test]
    fn odd_tracepoint_names_are_not_paths() {
        assert!(tracepoint_id("..", "x").is_err());
        assert!(tracepoint_id("syscalls", "a/b").is_err());
    }
}
