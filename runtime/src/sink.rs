//! Where a run's output goes: a buffered writer over the caller's `out`.
//!
//! Invariants: output is written in the order it is produced; by default (`-B line`)
//! and whenever this process's stdout is a terminal every event is flushed as soon as it
//! is written; with `-B full` output is buffered and flushed before every blocking wait
//! and at the end of the run, so a pipe still sees events while the program idles.

use ebpfc_stdlib::bytes::{has_raw_bytes, literal_bytes};
use std::io::{self, BufWriter, IsTerminal, Write};

use crate::output::OutputFormat;

/// Buffered output of one run, with its format.
pub(crate) struct Sink<'w> {
    out: BufWriter<&'w mut dyn Write>,
    format: OutputFormat,
    flush_each_event: bool,
    /// The most bytes `cat()` prints of a file (bpftrace's `BPFTRACE_CAT_BYTES_MAX`).
    cat_bytes_max: u64,
}

/// [`Sink`]'s `cat()` limit unless told otherwise: bpftrace's 10k.
const CAT_BYTES_MAX: u64 = 10240;

impl<'w> Sink<'w> {
    /// Buffers `out`; events are flushed one by one when asked or when stdout is a
    /// terminal.
    pub fn new(out: &'w mut dyn Write, format: OutputFormat, flush_each_event: bool) -> Self {
        let flush = flush_each_event || io::stdout().is_terminal();
        Self::with_policy(out, format, flush)
    }

    pub fn with_policy(
        out: &'w mut dyn Write,
        format: OutputFormat,
        flush_each_event: bool,
    ) -> Self {
        Self {
            out: BufWriter::new(out),
            format,
            flush_each_event,
            cat_bytes_max: CAT_BYTES_MAX,
        }
    }

    /// The most bytes `cat()` prints of a file.
    pub fn cat_bytes_max(&self) -> u64 {
        self.cat_bytes_max
    }

    pub fn set_cat_bytes_max(&mut self, bytes: u64) {
        self.cat_bytes_max = bytes;
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Writes one event's output, flushing it at once when stdout is a terminal.
    pub fn event(&mut self, text: &str) -> io::Result<()> {
        if has_raw_bytes(text) {
            return self.event_bytes(&literal_bytes(text));
        }
        self.event_bytes(text.as_bytes())
    }

    /// [`Sink::event`] for output that need not be UTF-8 (the bytes of a file).
    pub fn event_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        if self.flush_each_event {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Writes `text` without flushing.
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        if has_raw_bytes(text) {
            return self.out.write_all(&literal_bytes(text));
        }
        self.out.write_all(text.as_bytes())
    }

    /// Sends everything buffered to `out` and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that records what reached it, flush by flush.
    #[derive(Default)]
    struct Recorder {
        written: Vec<u8>,
        flushes: usize,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn buffered_events_reach_the_writer_on_flush() {
        let mut recorder = Recorder::default();
        let mut sink = Sink::with_policy(&mut recorder, OutputFormat::Text, false);
        sink.event("a\n").unwrap();
        sink.event("b").unwrap();
        sink.flush().unwrap();
        drop(sink);
        assert_eq!(recorder.written, b"a\nb");
        assert_eq!(recorder.flushes, 1);
    }

    #[test]
    fn terminal_events_are_flushed_one_by_one() {
        let mut recorder = Recorder::default();
        let mut sink = Sink::with_policy(&mut recorder, OutputFormat::Text, true);
        sink.event("a").unwrap();
        sink.write("b").unwrap();
        sink.event("c").unwrap();
        drop(sink);
        assert_eq!(recorder.written, b"abc");
        assert_eq!(recorder.flushes, 2);
    }
}
