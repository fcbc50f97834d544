//! One run of an object, start to finish: the order of the steps lives here and only
//! here.
//!
//! 1. read the metadata, check privileges, prepare the host (memlock, tracefs);
//! 2. open the object and load every program (verifier errors surface before anything
//!    runs), then announce `Attaching N probes...` (text: on stderr; JSON: an
//!    `attached_probes` line on `out`);
//! 3. run BEGIN and print its events; unless it called `exit()`, attach the other probes
//!    and stream events until `exit()`, SIGINT or SIGTERM;
//! 4. detach, print what is still pending, run END, print its events, print the maps.
//!
//! Invariant: probes are always detached before END runs and before maps are read, so
//! the maps printed are final.

use std::io::Write;

use aya::Ebpf;
use ebpfc_stdlib::meta::{Attach, Metadata};

use crate::child::PausedChild;
use crate::error::{io_words, RuntimeError};
use crate::events::Events;
use crate::output::{render_maps, OutputFormat};
use crate::{attach, maps, metadata, programs, setup, sys, RunOptions};

/// How long one wait for events lasts before the stop flag is checked again.
const POLL_TIMEOUT_MS: i32 = 100;

/// See [`crate::run`]; `child` is the `-c` command, released once probes are attached.
pub(crate) fn run(
    elf: &[u8],
    opts: &RunOptions,
    mut child: Option<&mut PausedChild>,
    out: &mut dyn Write,
) -> Result<i32, RuntimeError> {
    let meta = metadata::read_metadata(elf)?;
    setup::check_privileges()?;
    setup::prepare_host(&meta)?;
    let mut ebpf = programs::open_object(elf)?;
    programs::load_all(&mut ebpf, &meta)?;
    let mut events = Events::open(&mut ebpf, &meta)?;
    if !opts.quiet {
        let line = attaching_message(opts.format, meta.probes.len());
        match opts.format {
            OutputFormat::Text => eprintln!("{line}"),
            OutputFormat::Json => {
                writeln!(out, "{line}")?;
                out.flush()?;
            }
        }
    }
    if opts.dry_run {
        attach::detach_all(attach::attach_all(&mut ebpf, &meta)?);
        return Ok(0);
    }
    let _signals = sys::SignalGuard::install().map_err(|e| RuntimeError::Signals(io_words(&e)))?;
    programs::run_special(&mut ebpf, &meta, &Attach::Begin)?;
    events.drain(&meta, opts.format, out)?;
    if !events.stopped() {
        let links = attach::attach_all(&mut ebpf, &meta)?;
        if let Some(c) = child.as_deref_mut() {
            c.release();
        }
        let streamed = stream(&mut events, &meta, opts.format, child, out);
        attach::detach_all(links);
        streamed?;
    }
    finish(&mut ebpf, &mut events, &meta, opts.format, out)
}

/// The line announcing the probes, counted as bpftrace counts them (BEGIN and END
/// included): `Attaching N probes...` in text, an `attached_probes` object in JSON.
pub(crate) fn attaching_message(format: OutputFormat, probes: usize) -> String {
    match format {
        OutputFormat::Text => {
            let plural = if probes == 1 { "" } else { "s" };
            format!("Attaching {probes} probe{plural}...")
        }
        OutputFormat::Json => {
            format!(r#"{{"type": "attached_probes", "data": {{"probes": {probes}}}}}"#)
        }
    }
}

/// Prints events until the stream stops or a stop signal arrives.
fn stream(
    events: &mut Events,
    meta: &Metadata,
    format: OutputFormat,
    mut child: Option<&mut PausedChild>,
    out: &mut dyn Write,
) -> Result<(), RuntimeError> {
    loop {
        events.drain(meta, format, out)?;
        let child_done = child.as_deref_mut().is_some_and(PausedChild::exited);
        if events.stopped() || sys::stop_requested() || child_done {
            return Ok(());
        }
        events.wait(POLL_TIMEOUT_MS)?;
    }
}

/// Runs END and prints its events, then every map; returns the exit code.
fn finish(
    ebpf: &mut Ebpf,
    events: &mut Events,
    meta: &Metadata,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<i32, RuntimeError> {
    events.drain(meta, format, out)?;
    events.resume();
    programs::run_special(ebpf, meta, &Attach::End)?;
    events.drain(meta, format, out)?;
    let dumps = maps::dump_all(ebpf, &meta.maps)?;
    out.write_all(render_maps(format, &dumps).as_bytes())?;
    out.flush()?;
    Ok(exit_code(events.exit_code()))
}

/// The process exit code for an `exit(code)` value (0 when exit was not called).
pub(crate) fn exit_code(code: Option<i64>) -> i32 {
    let code = code.unwrap_or(0);
    i32::try_from(code).unwrap_or(if code < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attaching_message_matches_bpftrace() {
        assert_eq!(
            attaching_message(OutputFormat::Text, 1),
            "Attaching 1 probe..."
        );
        assert_eq!(
            attaching_message(OutputFormat::Text, 3),
            "Attaching 3 probes..."
        );
        assert_eq!(
            attaching_message(OutputFormat::Json, 1),
            r#"{"type": "attached_probes", "data": {"probes": 1}}"#
        );
    }

    #[test]
    fn exit_codes_saturate() {
        assert_eq!(exit_code(None), 0);
        assert_eq!(exit_code(Some(3)), 3);
        assert_eq!(exit_code(Some(i64::MAX)), i32::MAX);
        assert_eq!(exit_code(Some(-1)), -1);
    }
}
