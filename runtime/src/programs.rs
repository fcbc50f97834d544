//! Loading the object with aya and every program it holds into the kernel, and running
//! the BEGIN/END programs with `BPF_PROG_TEST_RUN`.
//!
//! Invariants: each [`Probe`]'s program is loaded as the aya type its attach kind
//! requires (a mismatch with the ELF section is reported, not ignored); a load failure
//! names the probe and program, and carries the verifier log's last lines.

use aya::programs::{
    FEntry, FExit, Iter, KProbe, PerfEvent, Program, ProgramError, RawTracePoint, TracePoint,
    UProbe,
};
use aya::{Btf, Ebpf, EbpfLoader, RawTracePointRunOptions, TestRun, VerifierLogLevel};
use ebpfc_stdlib::meta::{Attach, Metadata, Probe};

use crate::error::{describe, errno_of, io_words, log_tail, Rejection, RuntimeError};

/// Verifier log lines kept in a [`RuntimeError::Verifier`].
const VERIFIER_LOG_LINES: usize = 20;

/// Parses the object and creates its maps (programs are not loaded yet). The verifier
/// logs only its reason and statistics, unless `detailed`: then every instruction it
/// visits too (costly for long programs, as aya reruns the verifier until the log fits).
pub(crate) fn open_object(elf: &[u8], detailed: bool) -> Result<Ebpf, RuntimeError> {
    let mut level = VerifierLogLevel::STATS;
    if detailed {
        level |= VerifierLogLevel::DEBUG;
    }
    EbpfLoader::new()
        .verifier_log_level(level)
        .load(elf)
        .map_err(|e| RuntimeError::Object(describe(&e)))
}

/// Loads every program named by `meta.probes` of the object `elf`; a verifier
/// rejection carries the source it is about.
pub(crate) fn load_all(ebpf: &mut Ebpf, meta: &Metadata, elf: &[u8]) -> Result<(), RuntimeError> {
    let mut btf = None;
    for probe in &meta.probes {
        load_one(ebpf, probe, &mut btf).map_err(|e| located(e, probe, elf))?;
    }
    Ok(())
}

/// `err` pointed at the source: the loops of a program too long to verify, the
/// instruction the verifier names, or else the one a second load with a detailed log
/// stops at (that load's log replaces the first's).
fn located(mut err: RuntimeError, probe: &Probe, elf: &[u8]) -> RuntimeError {
    let RuntimeError::Verifier(rejection) = &mut err else {
        return err;
    };
    let Rejection { message, spans, .. } = rejection.as_mut();
    if too_long(message) {
        *spans = probe.loop_spans();
    } else if let Some(insn) = named_insn(message) {
        *spans = probe.source_of(insn).into_iter().collect();
    } else if spans.is_empty() && !probe.lines.is_empty() {
        return detailed_rejection(probe, elf).unwrap_or(err);
    }
    err
}

/// The rejection of `probe` when loaded again with the verifier's detailed log.
fn detailed_rejection(probe: &Probe, elf: &[u8]) -> Option<RuntimeError> {
    let mut ebpf = open_object(elf, true).ok()?;
    let err = load_one(&mut ebpf, probe, &mut None).err()?;
    matches!(err, RuntimeError::Verifier(_)).then_some(err)
}

/// Whether the verifier gave up on the program's length (usually an unbounded loop).
fn too_long(message: &str) -> bool {
    message.contains("too large") || message.contains("too complex")
}

/// The instruction a verifier message names (`infinite loop detected at insn 7`).
fn named_insn(message: &str) -> Option<u32> {
    let (_, rest) = message.split_once("insn ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn load_one(ebpf: &mut Ebpf, probe: &Probe, btf: &mut Option<Btf>) -> Result<(), RuntimeError> {
    let program = program_mut(ebpf, probe)?;
    let loaded = match &probe.attach {
        Attach::Begin | Attach::End | Attach::RawTracepoint { .. } | Attach::Signal { .. } => {
            typed::<RawTracePoint>(program, probe, "raw_tp")?.load()
        }
        Attach::Tracepoint { .. } => typed::<TracePoint>(program, probe, "tracepoint")?.load(),
        Attach::Interval { .. }
        | Attach::Profile { .. }
        | Attach::Software { .. }
        | Attach::Hardware { .. }
        | Attach::Watchpoint { .. } => typed::<PerfEvent>(program, probe, "perf_event")?.load(),
        Attach::Kprobe { .. } => typed::<KProbe>(program, probe, "kprobe")?.load(),
        Attach::Uprobe { .. } | Attach::Usdt { .. } => {
            typed::<UProbe>(program, probe, "uprobe")?.load()
        }
        Attach::Iter { target } => {
            let btf = kernel_btf(btf, probe)?;
            typed::<Iter>(program, probe, "iter")?.load(target, btf)
        }
        Attach::Fentry {
            function,
            ret: false,
        } => {
            let btf = kernel_btf(btf, probe)?;
            typed::<FEntry>(program, probe, "fentry")?.load(function, btf)
        }
        Attach::Fentry {
            function,
            ret: true,
        } => {
            let btf = kernel_btf(btf, probe)?;
            typed::<FExit>(program, probe, "fexit")?.load(function, btf)
        }
    };
    loaded.map_err(|e| load_error(probe, e))
}

/// The aya program named by `probe.program`.
pub(crate) fn program_mut<'a>(
    ebpf: &'a mut Ebpf,
    probe: &Probe,
) -> Result<&'a mut Program, RuntimeError> {
    ebpf.program_mut(&probe.program).ok_or_else(|| {
        RuntimeError::Metadata(format!(
            "probe {} names the program `{}`, which is not in the object",
            probe.name, probe.program
        ))
    })
}

/// `program` as the aya type `T`, or an error naming the section kind it should have.
pub(crate) fn typed<'a, T>(
    program: &'a mut Program,
    probe: &Probe,
    section: &str,
) -> Result<&'a mut T, RuntimeError>
where
    &'a mut T: TryFrom<&'a mut Program, Error = ProgramError>,
{
    program.try_into().map_err(|_| {
        RuntimeError::Metadata(format!(
            "the program `{}` of probe {} is not in a `{section}` section",
            probe.program, probe.name
        ))
    })
}

fn kernel_btf<'a>(btf: &'a mut Option<Btf>, probe: &Probe) -> Result<&'a Btf, RuntimeError> {
    let parsed = match btf.take() {
        Some(parsed) => parsed,
        None => Btf::from_sys_fs().map_err(|e| RuntimeError::Load {
            probe: probe.name.clone(),
            program: probe.program.clone(),
            reason: format!("cannot read kernel BTF: {}", describe(&e)),
        })?,
    };
    Ok(btf.insert(parsed))
}

/// Turns an aya load error into the user-facing error for `probe`.
fn load_error(probe: &Probe, err: ProgramError) -> RuntimeError {
    let (probe_name, program) = (probe.name.clone(), probe.program.clone());
    let is_fentry = matches!(probe.attach, Attach::Fentry { .. });
    if is_fentry && errno_of(&err) == Some(libc::EPERM) {
        let reason = "operation not permitted (fentry/fexit programs are blocked on this \
                      kernel, e.g. by lockdown)"
            .to_string();
        return RuntimeError::FentryRefused {
            probe: probe_name,
            program,
            reason,
        };
    }
    match err {
        ProgramError::LoadError {
            io_error,
            verifier_log,
        } => {
            let log = verifier_log.to_string();
            RuntimeError::Verifier(Box::new(Rejection {
                spans: failing_insn(&log)
                    .and_then(|i| probe.source_of(i))
                    .into_iter()
                    .collect(),
                message: verifier_message(&log),
                probe: probe_name,
                program,
                reason: verifier_reason(&io_error),
                log: verifier_log_tail(&log),
            }))
        }
        other => RuntimeError::Load {
            probe: probe_name,
            program,
            reason: describe(&other),
        },
    }
}

/// Words for the errno of a rejected `BPF_PROG_LOAD`.
fn verifier_reason(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::EACCES) => "the program is unsafe or invalid (permission denied)".to_string(),
        Some(libc::EINVAL) => "the program is invalid (invalid argument)".to_string(),
        Some(libc::E2BIG) => "the program is too long or complex to verify".to_string(),
        Some(libc::ENOSPC) => "the program is invalid (the verifier's log overflowed)".to_string(),
        _ => io_words(err),
    }
}

/// Verifier log lines that report statistics, not the reason.
const STATS: [&str; 3] = ["verification time", "stack depth", "processed "];

/// The end of a verifier log without its statistics lines, so the reason comes last.
fn verifier_log_tail(log: &str) -> String {
    let kept: Vec<&str> = log
        .lines()
        .filter(|l| !STATS.iter().any(|s| l.starts_with(s)))
        .collect();
    log_tail(&kept.join("\n"), VERIFIER_LOG_LINES)
}

/// The index of the instruction the verifier stopped at: the last instruction line
/// (`N: (op) ...`) of its log.
fn failing_insn(log: &str) -> Option<u32> {
    log.lines().rev().find_map(|line| {
        let (index, _) = line.split_once(": (")?;
        index.parse().ok()
    })
}

/// The verifier's reason: the last log line that is neither an instruction, a state
/// dump nor a statistic.
fn verifier_message(log: &str) -> String {
    let reason = log.lines().rev().map(str::trim).find(|line| {
        let stat = STATS.iter().any(|s| line.starts_with(s));
        let insn = line
            .split_once(": (")
            .is_some_and(|(i, _)| i.parse::<u32>().is_ok());
        !line.is_empty() && !stat && !insn && !line.starts_with(';') && !line.starts_with("from ")
    });
    reason.unwrap_or("no reason given").to_string()
}

/// Runs every probe of kind `which` (BEGIN or END) once, in metadata order.
pub(crate) fn run_special(
    ebpf: &mut Ebpf,
    meta: &Metadata,
    which: &Attach,
) -> Result<(), RuntimeError> {
    for probe in meta.probes.iter().filter(|p| &p.attach == which) {
        let program = typed::<RawTracePoint>(program_mut(ebpf, probe)?, probe, "raw_tp")?;
        program
            .test_run(RawTracePointRunOptions::new())
            .map_err(|e| RuntimeError::TestRun {
                probe: probe.name.clone(),
                reason: describe(&e),
            })?;
    }
    Ok(())
}

/// Runs every iterator probe once, in metadata order, reading each iterator to its end;
/// returns what the programs wrote to their iterators.
pub(crate) fn run_iterators(ebpf: &mut Ebpf, meta: &Metadata) -> Result<Vec<u8>, RuntimeError> {
    let mut out = Vec::new();
    let iterators = meta
        .probes
        .iter()
        .filter(|p| matches!(p.attach, Attach::Iter { .. }));
    for probe in iterators {
        let fail = |reason: String| RuntimeError::Attach {
            probe: probe.name.clone(),
            reason,
        };
        let program = typed::<Iter>(program_mut(ebpf, probe)?, probe, "iter")?;
        let id = program.attach().map_err(|e| fail(describe(&e)))?;
        let link = program.take_link(id).map_err(|e| fail(describe(&e)))?;
        let mut file = link.into_file().map_err(|e| fail(describe(&e)))?;
        std::io::Read::read_to_end(&mut file, &mut out).map_err(|e| fail(io_words(&e)))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn probe(attach: Attach) -> Probe {
        Probe {
            program: "prog".into(),
            name: "kfunc:vfs_read".into(),
            attach,
            lines: Vec::new(),
            loops: Vec::new(),
        }
    }

    fn load_failure(errno: i32, log: &str) -> ProgramError {
        ProgramError::LoadError {
            io_error: io::Error::from_raw_os_error(errno),
            verifier_log: aya_obj_log(log),
        }
    }

    fn aya_obj_log(log: &str) -> aya_obj::VerifierLog {
        aya_obj::VerifierLog::new(log.to_string())
    }

    #[test]
    fn fentry_eperm_is_reported_as_refused() {
        let p = probe(Attach::Fentry {
            function: "vfs_read".into(),
            ret: false,
        });
        let err = load_error(&p, load_failure(libc::EPERM, ""));
        assert!(matches!(err, RuntimeError::FentryRefused { .. }), "{err}");
        assert!(err.to_string().contains("kfunc:vfs_read"));
    }

    #[test]
    fn verifier_rejections_carry_the_log_tail() {
        let p = probe(Attach::Begin);
        let err = load_error(
            &p,
            load_failure(libc::EACCES, "0: (95) exit\nR0 !read_ok\n"),
        );
        let text = err.to_string();
        assert!(matches!(err, RuntimeError::Verifier(_)));
        assert!(
            text.contains("`prog`") && text.contains("R0 !read_ok"),
            "{text}"
        );
        assert!(text.contains("unsafe or invalid"), "{text}");
    }

    #[test]
    fn verifier_statistics_are_dropped_from_the_log() {
        let log = "0: (95) exit\nR0 !read_ok\nverification time 22 usec\nstack depth 0\n\
                   processed 1 insns (limit 1000000)\n";
        assert_eq!(verifier_log_tail(log), "0: (95) exit\nR0 !read_ok");
    }

    #[test]
    fn a_rejection_points_at_the_statement_of_the_failing_instruction() {
        let mut p = probe(Attach::Begin);
        p.lines = vec![[0, 8, 14], [1, 28, 32], [2, 16, 35], [3, 0, 0]];
        let log = "0: (b7) r3 = 0\n1: (07) r3 += 1 ; R3=1\n2: (05) goto pc-2\n\
                   1: (07) r3 += 1\nBPF program is too large. Processed 1000001 insn\n\
                   processed 1000001 insns (limit 1000000)\n";
        let err = load_error(&p, load_failure(libc::E2BIG, log));
        let RuntimeError::Verifier(rejection) = err else {
            panic!("not a verifier error: {err}");
        };
        let Rejection { spans, message, .. } = *rejection;
        assert_eq!(spans, [(28, 32)]);
        assert_eq!(message, "BPF program is too large. Processed 1000001 insn");
    }

    #[test]
    fn instructions_past_the_program_have_no_source() {
        let mut p = probe(Attach::Begin);
        p.lines = vec![[0, 8, 14], [3, 0, 0]];
        assert_eq!(p.source_of(2), Some((8, 14)));
        assert_eq!(p.source_of(3), None);
        assert_eq!(probe(Attach::Begin).source_of(0), None);
    }
}
