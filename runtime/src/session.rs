//! One run of an object, start to finish: the order of the steps lives here and only
//! here.
//!
//! 1. read the metadata, check privileges, start watching the `-p` process, prepare the
//!    host (memlock, tracefs);
//! 2. open the object and load every program (verifier errors surface before anything
//!    runs), write the start time into the start-time map (if any), then announce
//!    `Attaching N probes...` (text: on stderr; JSON: an `attached_probes` line on
//!    `out`);
//! 3. run BEGIN and handle its events; unless it called `exit()`, attach the other
//!    probes and stream events (running `self:signal` probes as their signals arrive)
//!    until `exit()`, SIGINT, SIGTERM, or the exit of the `-c` command or the `-p`
//!    process; with iterators, run them once instead, and the run ends after them;
//! 4. detach, handle what is still pending, run END, handle its events, report lost
//!    events, print the maps; then release the perf events the detached programs
//!    leave behind (in the background when there are many: the kernel is slow at it).
//!
//! Invariant: probes are always detached before END runs and before maps are read, so
//! the maps printed are final.

use std::io::Write;
use std::os::fd::OwnedFd;

use aya::Ebpf;
use ebpfc_stdlib::meta::{Attach, Metadata, Probe};

use crate::child::PausedChild;
use crate::error::{io_words, RuntimeError};
use crate::events::Events;
use crate::output::{render_lost_events, render_maps, OutputFormat};
use crate::sink::Sink;
use crate::symbols::SessionSymbols;
use crate::sys::ProcessWatch;
use crate::{attach, maps, metadata, perf_attach, programs, setup, sys, RunOptions};

/// How long one wait for events lasts before the stop conditions are checked again.
const POLL_TIMEOUT_MS: i32 = 100;

/// A loaded object with its event stream and output.
struct Session<'w> {
    ebpf: Ebpf,
    meta: Metadata,
    events: Events,
    /// Resolves the stacks and symbols events and maps print.
    syms: SessionSymbols,
    sink: Sink<'w>,
    /// Perf events whose programs are detached, released once the output is written.
    leftovers: Vec<OwnedFd>,
    /// See [`RunOptions::dump_blank_lines_to_stdout`].
    blank_lines_to_stdout: bool,
}

/// What else ends the event stream: the `-c` command and the `-p` process exiting.
struct Watched<'c> {
    child: Option<&'c mut PausedChild>,
    process: Option<ProcessWatch>,
}

/// See [`crate::run`]; `child` is the `-c` command, released once probes are attached.
pub(crate) fn run(
    elf: &[u8],
    opts: &RunOptions,
    child: Option<&mut PausedChild>,
    out: &mut dyn Write,
) -> Result<i32, RuntimeError> {
    let meta = metadata::read_metadata(elf)?;
    setup::check_privileges()?;
    let process = opts.pid.map(watch_process).transpose()?;
    setup::prepare_host(&meta)?;
    let mut ebpf = programs::open_object(elf, false)?;
    programs::load_all(&mut ebpf, &meta, elf)?;
    let events = Events::open(&mut ebpf, &meta)?;
    let syms = SessionSymbols::new(&ebpf, &meta)?;
    if let Some(name) = &meta.start_time {
        maps::write_start_time(&ebpf, name, sys::monotonic_ns())?;
    }
    let mut session = Session {
        ebpf,
        meta,
        events,
        syms,
        sink: Sink::new(out, opts.format, opts.flush_each_event),
        leftovers: Vec::new(),
        blank_lines_to_stdout: opts.dump_blank_lines_to_stdout,
    };
    if let Some(bytes) = opts.cat_bytes_max {
        session.sink.set_cat_bytes_max(bytes);
    }
    if !opts.quiet {
        session.announce()?;
    }
    if opts.dry_run {
        let links = attach::attach_all(&mut session.ebpf, &session.meta, opts.pid)?;
        perf_attach::release(attach::detach_all(links));
        return Ok(0);
    }
    let probe_signals = signal_probes(&session.meta);
    let _signals = sys::SignalGuard::install(&probe_signals)
        .map_err(|e| RuntimeError::Signals(io_words(&e)))?;
    session.run_probes(opts.pid, Watched { child, process })?;
    session.finish()
}

/// Starts watching the `-p` process, which must exist.
fn watch_process(pid: u32) -> Result<ProcessWatch, RuntimeError> {
    ProcessWatch::open(pid).map_err(|e| match e.raw_os_error() {
        Some(libc::ESRCH) => RuntimeError::NoProcess { pid },
        _ => RuntimeError::Process {
            pid,
            reason: io_words(&e),
        },
    })
}

impl Session<'_> {
    /// Prints the `Attaching N probes...` line (stderr in text, `out` in JSON).
    fn announce(&mut self) -> Result<(), RuntimeError> {
        let format = self.sink.format();
        let line = attaching_message(format, self.meta.probes.len());
        match format {
            OutputFormat::Text => eprintln!("{line}"),
            OutputFormat::Json => {
                self.sink.write(&format!("{line}\n"))?;
                self.sink.flush()?;
            }
        }
        Ok(())
    }

    /// Handles every event available now.
    fn drain(&mut self) -> Result<(), RuntimeError> {
        self.events
            .drain(&self.ebpf, &self.meta, &self.syms, &mut self.sink)
    }

    /// Runs BEGIN, then (unless it exited) attaches every probe and streams events.
    fn run_probes(
        &mut self,
        pid: Option<u32>,
        mut watched: Watched<'_>,
    ) -> Result<(), RuntimeError> {
        programs::run_special(&mut self.ebpf, &self.meta, &Attach::Begin)?;
        self.drain()?;
        if self.events.stopped() {
            return Ok(());
        }
        let mut links = attach::attach_all(&mut self.ebpf, &self.meta, pid)?;
        if let Some(c) = watched.child.as_deref_mut() {
            c.release();
        }
        let streamed = match self.has_iterators() {
            true => self.iterate(),
            false => self.stream(&mut watched, &mut links),
        };
        self.leftovers.extend(attach::detach_all(links));
        streamed
    }

    fn has_iterators(&self) -> bool {
        let iter = |p: &Probe| matches!(p.attach, Attach::Iter { .. });
        self.meta.probes.iter().any(iter)
    }

    /// Runs the iterators once, prints what they wrote and handles their events; the
    /// run ends after them, as bpftrace's does.
    fn iterate(&mut self) -> Result<(), RuntimeError> {
        let written = programs::run_iterators(&mut self.ebpf, &self.meta)?;
        if !written.is_empty() {
            self.sink.write(&String::from_utf8_lossy(&written))?;
        }
        self.drain()
    }

    /// Runs the `self:signal` probes of every signal received since the last call.
    fn run_signal_probes(&mut self) -> Result<(), RuntimeError> {
        for signal in sys::take_pending_signals() {
            programs::run_special(&mut self.ebpf, &self.meta, &Attach::Signal { signal })?;
        }
        Ok(())
    }

    /// Handles events until the stream stops, a stop signal arrives or a watched process
    /// exits; output is flushed before every wait.
    fn stream(
        &mut self,
        watched: &mut Watched<'_>,
        links: &mut Vec<attach::AttachedLink>,
    ) -> Result<(), RuntimeError> {
        loop {
            self.run_signal_probes()?;
            self.drain()?;
            for address in self.events.take_unwatched() {
                let released = attach::unwatch(links, address);
                self.leftovers.extend(released);
            }
            if self.events.stopped() || sys::stop_requested() || watched.exited() {
                return Ok(());
            }
            self.sink.flush()?;
            let process_fd = watched.process.as_ref().map(ProcessWatch::as_fd);
            self.events.wait(process_fd, POLL_TIMEOUT_MS)?;
        }
    }

    /// Runs END and handles its events, reports lost events, then prints every map;
    /// returns the exit code.
    fn finish(mut self) -> Result<i32, RuntimeError> {
        self.drain()?;
        self.events.resume();
        programs::run_special(&mut self.ebpf, &self.meta, &Attach::End)?;
        self.drain()?;
        self.report_lost_events()?;
        let full = self.report_dropped_updates()?;
        let dumps = maps::dump_all(&self.ebpf, &self.meta.maps)?;
        let format = self.sink.format();
        let dump = render_maps(format, &dumps, &self.syms);
        let dump = match dump.strip_prefix("\n\n") {
            Some(maps) if self.blank_lines_to_stdout => {
                let mut stdout = std::io::stdout();
                stdout.write_all(b"\n\n")?;
                stdout.flush()?;
                maps
            }
            _ => &dump,
        };
        self.sink.write(dump)?;
        self.sink.flush()?;
        perf_attach::release(std::mem::take(&mut self.leftovers));
        match exit_code(self.events.exit_code()) {
            0 if full => Ok(1),
            code => Ok(code),
        }
    }

    /// Reports the events the ring buffer dropped, if the program counts them and any
    /// were: `Lost N events` on stderr in text, a `lost_events` line in JSON.
    fn report_lost_events(&mut self) -> Result<(), RuntimeError> {
        let Some(name) = &self.meta.lost_events else {
            return Ok(());
        };
        let lost = maps::lost_events(&self.ebpf, name)?;
        if lost == 0 {
            return Ok(());
        }
        let format = self.sink.format();
        let report = render_lost_events(format, lost);
        match format {
            OutputFormat::Text => {
                self.sink.flush()?;
                eprint!("{report}");
            }
            OutputFormat::Json => self.sink.write(&report)?,
        }
        Ok(())
    }
}

impl Session<'_> {
    /// Reports on stderr every map that refused updates because it was full; whether
    /// any did (the run then fails).
    fn report_dropped_updates(&mut self) -> Result<bool, RuntimeError> {
        let Some(name) = &self.meta.dropped_updates else {
            return Ok(false);
        };
        let mut full = false;
        for (index, dropped) in maps::counters(&self.ebpf, name)? {
            let map = self.meta.maps.get(index as usize);
            if let (Some(map), true) = (map, dropped > 0) {
                self.sink.flush()?;
                eprintln!(
                    "error: map {} was full: {dropped} update(s) were dropped; raise its size (config max_map_keys or a map declaration)",
                    map.name
                );
                full = true;
            }
        }
        Ok(full)
    }
}

impl Watched<'_> {
    /// Whether the `-c` command or the `-p` process has exited.
    fn exited(&mut self) -> bool {
        let child_done = self.child.as_deref_mut().is_some_and(PausedChild::exited);
        child_done || self.process.as_ref().is_some_and(ProcessWatch::exited)
    }
}

/// The signal numbers `self:signal` probes wait for.
fn signal_probes(meta: &Metadata) -> Vec<i32> {
    let signal = |p: &Probe| match p.attach {
        Attach::Signal { signal } => Some(signal),
        _ => None,
    };
    meta.probes.iter().filter_map(signal).collect()
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

    #[test]
    fn a_missing_process_is_named() {
        let err = watch_process(i32::MAX as u32).err().unwrap();
        assert!(matches!(err, RuntimeError::NoProcess { .. }), "{err}");
        assert!(err.to_string().contains(&(i32::MAX).to_string()), "{err}");
    }
}
