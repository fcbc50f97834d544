//! Attaching every probe except BEGIN, END, iterators and signal probes, and
//! detaching them again.
//!
//! Invariants: every successful attachment is held as an owned [`AttachedLink`], so
//! dropping the list (or [`detach_all`]) detaches everything, including the links made
//! before a later probe failed; errors name the probe and say why in words. Programs
//! attached through ebpfc's own perf events (tracepoints, USDT, watchpoints) leave
//! their events behind when detached, for the session to release after its output
//! (`crate::perf_attach`).

use std::num::NonZeroU32;
use std::os::fd::{AsFd, OwnedFd};

use aya::programs::fentry::FEntryLink;
use aya::programs::fexit::FExitLink;
use aya::programs::kprobe::KProbeLink;
use aya::programs::perf_event::{
    PerfEventConfig, PerfEventLink, PerfEventScope, SamplePolicy, SoftwareEvent,
};
use aya::programs::raw_trace_point::RawTracePointLink;
use aya::programs::uprobe::{UProbeAttachLocation, UProbeError, UProbeLink, UProbeScope};
use aya::programs::{
    FEntry, FExit, KProbe, Link, PerfEvent, ProbeKind, Program, ProgramError, RawTracePoint,
    TracePoint, UProbe,
};
use aya::Ebpf;
use ebpfc_stdlib::meta::{Attach, Metadata, Probe};

use crate::error::{describe, errno_of, errno_words, io_words, RuntimeError, ENOTSUPP};
use crate::perf_attach::{self, PerfAttachment, PerfError, UprobeAt};
use crate::programs::{program_mut, typed};
use crate::symbols::FunctionOffsets;

/// Threads that detach perf attachments at once (see [`detach_in_parallel`]).
const DETACH_THREADS: usize = 64;

/// `perf_event_attr.type` of hardware events.
const PERF_TYPE_HARDWARE: u32 = 0;
/// `perf_event_attr.type` of software events.
const PERF_TYPE_SOFTWARE: u32 = 1;

/// One attachment; detached when dropped.
pub(crate) enum AttachedLink {
    /// A program on one of ebpfc's own perf events.
    Perf(PerfAttachment),
    /// A program on a hardware breakpoint at `address` (one per CPU without a target).
    Watch {
        address: u64,
        attachment: PerfAttachment,
    },
    RawTracepoint(RawTracePointLink),
    PerfEvent(PerfEventLink),
    Kprobe(KProbeLink),
    Uprobe(UProbeLink),
    Fentry(FEntryLink),
    Fexit(FExitLink),
}

impl AttachedLink {
    /// Detaches now; errors are ignored because the link is gone either way. Returns
    /// the perf event left to release, if the attachment had its own.
    fn detach(self) -> Option<OwnedFd> {
        let _ = match self {
            Self::Perf(p) | Self::Watch { attachment: p, .. } => return Some(p.detach()),
            Self::RawTracepoint(l) => l.detach(),
            Self::PerfEvent(l) => l.detach(),
            Self::Kprobe(l) => l.detach(),
            Self::Uprobe(l) => l.detach(),
            Self::Fentry(l) => l.detach(),
            Self::Fexit(l) => l.detach(),
        };
        None
    }
}

/// Detaches the watchpoints on `address` (`unwatch()`); returns their perf events.
pub(crate) fn unwatch(links: &mut Vec<AttachedLink>, address: u64) -> Vec<OwnedFd> {
    let watches =
        |l: &AttachedLink| matches!(l, AttachedLink::Watch { address: a, .. } if *a == address);
    let (gone, kept) = std::mem::take(links).into_iter().partition(watches);
    *links = kept;
    detach_all(gone)
}

/// Detaches every program, in reverse order of attachment; returns the perf events
/// left behind, which carry no program any more.
pub(crate) fn detach_all(links: Vec<AttachedLink>) -> Vec<OwnedFd> {
    detach_in_parallel(links.into_iter().rev().collect())
}

/// Detaches links from up to [`DETACH_THREADS`] threads at once. Detaching a program
/// from a perf event waits for an RCU grace period in the kernel
/// (`perf_event_detach_bpf_prog` → `synchronize_rcu_tasks_trace`, tens of
/// milliseconds); waits that overlap share their grace periods, so hundreds of probes
/// detach in a fraction of a second instead of one after the other. (aya's uprobe and
/// kprobe links also close their events, which the kernel does one at a time.)
fn detach_in_parallel(links: Vec<AttachedLink>) -> Vec<OwnedFd> {
    let threads = links.len().clamp(1, DETACH_THREADS);
    let mut chunks: Vec<Vec<AttachedLink>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, link) in links.into_iter().enumerate() {
        chunks[i % threads].push(link);
    }
    let detach = |chunk: Vec<AttachedLink>| -> Vec<OwnedFd> {
        chunk.into_iter().filter_map(AttachedLink::detach).collect()
    };
    let mut chunks = chunks.into_iter();
    let first = chunks.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = chunks.map(|c| scope.spawn(move || detach(c))).collect();
        let mut events = detach(first);
        for handle in others {
            // A thread that cannot be joined has dropped (so closed) its events.
            events.extend(handle.join().unwrap_or_default());
        }
        events
    })
}

/// Whether a probe is attached (as opposed to BEGIN/END and signal probes, which are
/// run, and iterators, which are read).
pub(crate) fn is_attachable(probe: &Probe) -> bool {
    !matches!(
        probe.attach,
        Attach::Begin | Attach::End | Attach::Iter { .. } | Attach::Signal { .. }
    )
}

/// Attaches every attachable probe of `meta`; with `pid`, uprobes fire only in that
/// process. Probes of one event run in the order they are written, as in bpftrace:
/// most kinds run in the order they were attached, so they are attached in metadata
/// order; the kernel runs kprobes, uprobes, USDT probes and software events that share
/// an event last-attached first, so those are attached afterwards, in reverse.
pub(crate) fn attach_all(
    ebpf: &mut Ebpf,
    meta: &Metadata,
    pid: Option<u32>,
) -> Result<Vec<AttachedLink>, RuntimeError> {
    let mut links = Vec::new();
    let mut target = Target {
        scope: uprobe_scope(pid),
        pid: pid.and_then(|p| i32::try_from(p).ok()).unwrap_or(-1),
        functions: FunctionOffsets::default(),
    };
    let attachable = || meta.probes.iter().filter(|p| is_attachable(p));
    let forward = attachable().filter(|p| !runs_last_attached_first(p));
    let reverse = attachable().filter(|p| runs_last_attached_first(p)).rev();
    for probe in forward.chain(reverse) {
        let program = program_mut(ebpf, probe)?;
        attach_one(program, probe, &mut target, &mut links).map_err(|e| attach_error(probe, e))?;
    }
    Ok(links)
}

/// Whether the kernel runs probes of this kind that share an event in the reverse of
/// the order they were attached.
fn runs_last_attached_first(probe: &Probe) -> bool {
    match &probe.attach {
        Attach::Kprobe { ret, .. } => !ret,
        Attach::Uprobe { .. } | Attach::Usdt { .. } | Attach::Software { .. } => true,
        _ => false,
    }
}

/// The processes probes fire in: aya's uprobe scope, and the pid for ebpfc's own
/// perf events (-1: all); where uprobed functions start in their files.
struct Target {
    scope: UProbeScope,
    pid: i32,
    functions: FunctionOffsets,
}

/// The processes uprobes fire for: one with `-p` (pid 0 meaning all), else all.
fn uprobe_scope(pid: Option<u32>) -> UProbeScope {
    match pid.and_then(NonZeroU32::new) {
        Some(pid) => UProbeScope::OneProcess(pid),
        None => UProbeScope::AllProcesses,
    }
}

/// Why attaching one probe failed: a wrong program type, aya's error, or that of one
/// of ebpfc's own perf events.
enum Failure {
    Runtime(RuntimeError),
    Aya(ProgramError),
    Perf(PerfError),
}

impl From<PerfError> for Failure {
    fn from(err: PerfError) -> Self {
        Self::Perf(err)
    }
}

impl From<ProgramError> for Failure {
    fn from(err: ProgramError) -> Self {
        Self::Aya(err)
    }
}

impl From<RuntimeError> for Failure {
    fn from(err: RuntimeError) -> Self {
        Self::Runtime(err)
    }
}

fn attach_one(
    program: &mut Program,
    probe: &Probe,
    target: &mut Target,
    links: &mut Vec<AttachedLink>,
) -> Result<(), Failure> {
    let scope = target.scope;
    let link = match &probe.attach {
        Attach::Begin | Attach::End | Attach::Iter { .. } | Attach::Signal { .. } => return Ok(()),
        Attach::Interval { .. }
        | Attach::Profile { .. }
        | Attach::Software { .. }
        | Attach::Hardware { .. } => {
            let (event, period, cpus) = perf_target(probe)?;
            let p = typed::<PerfEvent>(program, probe, "perf_event")?;
            return attach_perf(p, event, period, &cpus, links);
        }
        Attach::Tracepoint { category, name } => {
            let p = typed::<TracePoint>(program, probe, "tracepoint")?;
            AttachedLink::Perf(perf_attach::tracepoint(p.fd()?.as_fd(), category, name)?)
        }
        Attach::Usdt {
            path,
            offset,
            semaphore,
            ..
        } => {
            check_uprobe_target(probe, path)?;
            let p = typed::<UProbe>(program, probe, "uprobe")?;
            let at = UprobeAt {
                path,
                offset: *offset,
                ret: false,
                semaphore: *semaphore,
            };
            AttachedLink::Perf(perf_attach::uprobe(p.fd()?.as_fd(), at, target.pid)?)
        }
        Attach::Watchpoint {
            address,
            length,
            mode,
        } => {
            let cpus = online_cpus(probe)?;
            let p = typed::<PerfEvent>(program, probe, "perf_event")?;
            let prog = p.fd()?.as_fd();
            let attached =
                perf_attach::watchpoint(prog, *address, *length, mode, target.pid, &cpus)?;
            let address = *address;
            let watch = |attachment| AttachedLink::Watch {
                address,
                attachment,
            };
            links.extend(attached.into_iter().map(watch));
            return Ok(());
        }
        Attach::RawTracepoint { name } => {
            let p = typed::<RawTracePoint>(program, probe, "raw_tp")?;
            let id = p.attach(name)?;
            AttachedLink::RawTracepoint(p.take_link(id)?)
        }
        Attach::Kprobe {
            function,
            offset,
            ret,
        } => {
            let p = typed::<KProbe>(program, probe, "kprobe")?;
            check_probe_kind(probe, p.kind(), *ret, "kprobe")?;
            let id = p.attach(function, *offset)?;
            AttachedLink::Kprobe(p.take_link(id)?)
        }
        Attach::Uprobe {
            path,
            symbol,
            offset,
            ret,
        } => {
            check_uprobe_target(probe, path)?;
            let p = typed::<UProbe>(program, probe, "uprobe")?;
            check_probe_kind(probe, p.kind(), *ret, "uprobe")?;
            let start = match symbol {
                Some(name) if path.contains('/') => target.functions.find(path, name),
                _ => None,
            };
            if let Some(start) = start {
                let at = UprobeAt {
                    path,
                    offset: start + offset,
                    ret: *ret,
                    semaphore: None,
                };
                let prog = p.fd()?.as_fd();
                links.push(AttachedLink::Perf(perf_attach::uprobe(
                    prog, at, target.pid,
                )?));
                return Ok(());
            }
            // Symbols only a debug file or aya's own lookup finds.
            let location = uprobe_location(symbol.as_deref(), *offset);
            let id = p.attach(location, path, scope)?;
            AttachedLink::Uprobe(p.take_link(id)?)
        }
        Attach::Fentry { ret: false, .. } => {
            let p = typed::<FEntry>(program, probe, "fentry")?;
            let id = p.attach()?;
            AttachedLink::Fentry(p.take_link(id)?)
        }
        Attach::Fentry { ret: true, .. } => {
            let p = typed::<FExit>(program, probe, "fexit")?;
            let id = p.attach()?;
            AttachedLink::Fexit(p.take_link(id)?)
        }
    };
    links.push(link);
    Ok(())
}

/// The perf event, sample period and CPUs of an interval, profile or software probe.
fn perf_target(probe: &Probe) -> Result<(PerfEventConfig, u64, Vec<u32>), RuntimeError> {
    let cpu_clock = PerfEventConfig::Software(SoftwareEvent::CpuClock);
    match &probe.attach {
        Attach::Interval { period_ns } => Ok((cpu_clock, *period_ns, vec![0])),
        Attach::Profile { period_ns } => Ok((cpu_clock, *period_ns, online_cpus(probe)?)),
        Attach::Software { config, period, .. } => {
            let event = PerfEventConfig::Pmu {
                pmu_type: PERF_TYPE_SOFTWARE,
                config: *config,
            };
            Ok((event, *period, online_cpus(probe)?))
        }
        Attach::Hardware { config, period, .. } => {
            let event = PerfEventConfig::Pmu {
                pmu_type: PERF_TYPE_HARDWARE,
                config: *config,
            };
            Ok((event, *period, online_cpus(probe)?))
        }
        _ => Err(RuntimeError::Attach {
            probe: probe.name.clone(),
            reason: "not a perf event probe".to_string(),
        }),
    }
}

/// Fails unless the ELF section (`kprobe/` vs `kretprobe/`, `uprobe/` vs `uretprobe/`)
/// agrees with the metadata about entry vs return.
fn check_probe_kind(
    probe: &Probe,
    kind: ProbeKind,
    ret: bool,
    section: &str,
) -> Result<(), RuntimeError> {
    if matches!(kind, ProbeKind::Return) == ret {
        return Ok(());
    }
    let expected = if ret {
        section.replacen("probe", "retprobe", 1)
    } else {
        section.to_string()
    };
    Err(RuntimeError::Metadata(format!(
        "the program `{}` of probe {} is not in a `{expected}` section",
        probe.program, probe.name
    )))
}

/// One sampling perf event per CPU in `cpus`, for every process.
fn attach_perf(
    program: &mut PerfEvent,
    event: PerfEventConfig,
    period: u64,
    cpus: &[u32],
    links: &mut Vec<AttachedLink>,
) -> Result<(), Failure> {
    for &cpu in cpus {
        let scope = PerfEventScope::AllProcessesOneCpu { cpu };
        let id = program.attach(event, scope, SamplePolicy::Period(period), false)?;
        links.push(AttachedLink::PerfEvent(program.take_link(id)?));
    }
    Ok(())
}

fn online_cpus(probe: &Probe) -> Result<Vec<u32>, RuntimeError> {
    aya::util::online_cpus().map_err(|(path, e)| RuntimeError::Attach {
        probe: probe.name.clone(),
        reason: format!("cannot read the online CPUs from {path}: {}", io_words(&e)),
    })
}

/// Reports a missing uprobe target file by name (bare library names are left to aya,
/// which resolves them through the ld.so cache).
fn check_uprobe_target(probe: &Probe, path: &str) -> Result<(), RuntimeError> {
    if path.contains('/') && !std::path::Path::new(path).exists() {
        let reason = format!("the file {path} does not exist");
        return Err(RuntimeError::Attach {
            probe: probe.name.clone(),
            reason,
        });
    }
    Ok(())
}

fn uprobe_location(symbol: Option<&str>, offset: u64) -> UProbeAttachLocation<'_> {
    match symbol {
        Some(symbol) if offset == 0 => UProbeAttachLocation::Symbol(symbol),
        Some(symbol) => UProbeAttachLocation::SymbolOffset(symbol, offset),
        None => UProbeAttachLocation::AbsoluteOffset(offset),
    }
}

/// The user-facing error for a failed attachment of `probe`.
fn attach_error(probe: &Probe, failure: Failure) -> RuntimeError {
    match failure {
        Failure::Runtime(err) => err,
        Failure::Perf(err) => RuntimeError::Attach {
            probe: probe.name.clone(),
            reason: perf_reason(&probe.attach, &err),
        },
        Failure::Aya(err) => RuntimeError::Attach {
            probe: probe.name.clone(),
            reason: attach_reason(&probe.attach, &err),
        },
    }
}

/// Words for why one of ebpfc's own perf events could not be opened or linked.
fn perf_reason(attach: &Attach, err: &PerfError) -> String {
    let errno = err.error.raw_os_error();
    let detail = match errno {
        Some(errno) => format!("{}: {}", err.step, errno_words(errno)),
        None => format!("{}: {}", err.step, err.error),
    };
    let missing = errno == Some(libc::ENOENT) || err.error.kind() == std::io::ErrorKind::NotFound;
    match attach {
        Attach::Tracepoint { category, name } if missing => {
            format!("tracepoint {category}:{name} does not exist ({detail})")
        }
        Attach::Usdt { path, .. } | Attach::Uprobe { path, .. } if missing => {
            format!("{path} or its probe site does not exist ({detail})")
        }
        Attach::Usdt { .. } if errno == Some(libc::EOPNOTSUPP) => format!(
            "this kernel cannot count USDT semaphores (its uprobe PMU has no \
             ref_ctr_offset) ({detail})"
        ),
        Attach::Watchpoint { .. } => match errno {
            Some(libc::ENOENT | libc::ENODEV | libc::EOPNOTSUPP | ENOTSUPP) => {
                format!("hardware breakpoints are not available on this machine ({detail})")
            }
            Some(libc::ENOSPC) => format!(
                "no free hardware breakpoint (debug register) is left on this CPU ({detail})"
            ),
            Some(libc::EINVAL) => format!(
                "the kernel refused the breakpoint: the address must be aligned to the \
                 length (1, 2, 4 or 8), `x` needs length 8 and cannot watch kernel code \
                 here ({detail})"
            ),
            _ => detail,
        },
        _ => detail,
    }
}

/// Words for why `attach` failed, specialised for the usual errno of each kind.
fn attach_reason(attach: &Attach, err: &ProgramError) -> String {
    if let (
        Attach::Uprobe { path, .. },
        ProgramError::UProbeError(UProbeError::SymbolError { symbol, error }),
    ) = (attach, err)
    {
        return format!("cannot find the symbol `{symbol}` in {path}: {error}");
    }
    let detail = describe(err);
    let errno = errno_of(err);
    let missing = errno == Some(libc::ENOENT);
    let no_pmu = matches!(
        errno,
        Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV | ENOTSUPP)
    );
    match attach {
        Attach::Hardware { event, .. } if no_pmu => {
            format!("hardware event {event} is not available on this machine (no PMU) ({detail})")
        }
        Attach::Tracepoint { category, name } if missing => {
            format!("tracepoint {category}:{name} does not exist ({detail})")
        }
        Attach::RawTracepoint { name } if missing => {
            format!("raw tracepoint {name} does not exist ({detail})")
        }
        Attach::Kprobe { function, .. } if missing => format!(
            "kprobes are not available on this kernel, or {function} cannot be probed ({detail})"
        ),
        Attach::Uprobe { path, .. } if missing => {
            format!("{path} or the probed symbol does not exist ({detail})")
        }
        _ => detail,
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use aya::sys::SyscallError;

    use super::*;

    fn syscall_error(errno: i32) -> ProgramError {
        ProgramError::SyscallError(SyscallError {
            call: "perf_event_open",
            io_error: io::Error::from_raw_os_error(errno),
        })
    }

    #[test]
    fn missing_tracepoints_are_named() {
        let attach = Attach::Tracepoint {
            category: "syscalls".into(),
            name: "nope".into(),
        };
        let reason = attach_reason(&attach, &syscall_error(libc::ENOENT));
        assert!(
            reason.starts_with("tracepoint syscalls:nope does not exist"),
            "{reason}"
        );
    }

    #[test]
    fn missing_kprobe_support_is_explained() {
        let attach = Attach::Kprobe {
            function: "vfs_read".into(),
            offset: 0,
            ret: false,
        };
        let reason = attach_reason(&attach, &syscall_error(libc::ENOENT));
        assert!(reason.contains("kprobes are not available"), "{reason}");
    }

    #[test]
    fn hardware_events_without_a_pmu_are_explained() {
        let attach = Attach::Hardware {
            event: "cycles".into(),
            config: 0,
            period: 1_000_000,
        };
        for errno in [libc::ENOENT, libc::EOPNOTSUPP, libc::ENODEV] {
            let reason = attach_reason(&attach, &syscall_error(errno));
            assert!(
                reason
                    .starts_with("hardware event cycles is not available on this machine (no PMU)"),
                "{reason}"
            );
        }
        let reason = attach_reason(&attach, &syscall_error(libc::EACCES));
        assert!(!reason.contains("no PMU"), "{reason}");
    }

    #[test]
    fn other_errors_are_described_in_words() {
        let reason = attach_reason(
            &Attach::Interval { period_ns: 1 },
            &syscall_error(libc::EPERM),
        );
        assert!(
            reason.contains("perf_event_open") && reason.contains("CAP_BPF"),
            "{reason}"
        );
    }

    #[test]
    fn return_probes_must_be_in_return_sections() {
        let attach = Attach::Uprobe {
            path: "/bin/sh".into(),
            symbol: None,
            offset: 0,
            ret: true,
        };
        let probe = Probe {
            program: "p".into(),
            name: "uretprobe:/bin/sh:0".into(),
            attach,
            lines: Vec::new(),
            loops: Vec::new(),
        };
        let err = check_probe_kind(&probe, ProbeKind::Entry, true, "uprobe").unwrap_err();
        assert!(err.to_string().contains("`uretprobe` section"), "{err}");
        assert!(check_probe_kind(&probe, ProbeKind::Return, true, "uprobe").is_ok());
        assert!(check_probe_kind(&probe, ProbeKind::Entry, false, "kprobe").is_ok());
    }

    #[test]
    fn uprobes_are_scoped_to_the_pid() {
        assert!(matches!(
            uprobe_scope(Some(42)),
            UProbeScope::OneProcess(p) if p.get() == 42
        ));
        assert!(matches!(uprobe_scope(None), UProbeScope::AllProcesses));
        assert!(matches!(uprobe_scope(Some(0)), UProbeScope::AllProcesses));
    }

    #[test]
    fn uprobe_locations_follow_symbol_and_offset() {
        assert!(matches!(
            uprobe_location(Some("f"), 0),
            UProbeAttachLocation::Symbol("f")
        ));
        assert!(matches!(
            uprobe_location(Some("f"), 4),
            UProbeAttachLocation::SymbolOffset("f", 4)
        ));
        assert!(matches!(
            uprobe_location(None, 9),
            UProbeAttachLocation::AbsoluteOffset(9)
        ));
    }
}
