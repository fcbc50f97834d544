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
use aya::{Btf, Ebpf, EbpfLoader, RawTracePointRunOptions, TestRun};
use ebpfc_stdlib::meta::{Attach, Metadata, Probe};

use crate::error::{describe, errno_of, io_words, log_tail, RuntimeError};

/// Verifier log lines kept in a [`RuntimeError::Verifier`].
const VERIFIER_LOG_LINES: usize = 20;

/// Parses the object and creates its maps (programs are not loaded yet).
pub(crate) fn open_object(elf: &[u8]) -> Result<Ebpf, RuntimeError> {
    EbpfLoader::new()
        .load(elf)
        .map_err(|e| RuntimeError::Object(describe(&e)))
}

/// Loads every program named by `meta.probes`.
pub(crate) fn load_all(ebpf: &mut Ebpf, meta: &Metadata) -> Result<(), RuntimeError> {
    let mut btf = None;
    for probe in &meta.probes {
        load_one(ebpf, probe, &mut btf)?;
    }
    Ok(())
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
        } => RuntimeError::Verifier {
            probe: probe_name,
            program,
            reason: verifier_reason(&io_error),
            log: verifier_log_tail(&verifier_log.to_string()),
        },
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
        _ => io_words(err),
    }
}

/// The end of a verifier log without its statistics lines, so the reason comes last.
fn verifier_log_tail(log: &str) -> String {
    const STATS: [&str; 3] = ["verification time", "stack depth", "processed "];
    let kept: Vec<&str> = log
        .lines()
        .filter(|l| !STATS.iter().any(|s| l.starts_with(s)))
        .collect();
    log_tail(&kept.join("\n"), VERIFIER_LOG_LINES)
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
        assert!(matches!(err, RuntimeError::Verifier { .. }));
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
}
