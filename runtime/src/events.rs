//! The event stream: decoding ring-buffer records (exit, printf) and printing them.
//!
//! Invariants: records are handled in ring order; once an exit record has been seen the
//! stream is *stopped* and further records are consumed without being printed (as
//! bpftrace ignores events after `exit()`), until [`Events::resume`] is called for END.
//! The first exit code seen is the one reported.

use std::io::Write;
use std::os::fd::AsFd;

use aya::maps::{MapData, RingBuf};
use aya::Ebpf;
use ebpfc_stdlib::meta::{Metadata, EVENT_EXIT, EVENT_PRINTF};

use crate::error::{describe, io_words, RuntimeError};
use crate::output::{render_printf, OutputFormat};
use crate::sys;

/// One decoded ring-buffer record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    /// `exit(code)`.
    Exit(i64),
    /// A printf event using format `index` of the metadata.
    Printf(usize),
    /// A record too short to carry an id, or with an id this runtime does not know.
    Unknown,
}

/// Decodes the event id (and exit code) at the start of `record`.
pub(crate) fn classify(record: &[u8], formats: usize) -> Record {
    let Some(id) = read_u64(record, 0) else {
        return Record::Unknown;
    };
    if id == EVENT_EXIT {
        return read_u64(record, 8).map_or(Record::Unknown, |code| Record::Exit(code as i64));
    }
    match id
        .checked_sub(EVENT_PRINTF)
        .and_then(|i| usize::try_from(i).ok())
    {
        Some(index) if index < formats => Record::Printf(index),
        _ => Record::Unknown,
    }
}

fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    let chunk = bytes.get(offset..offset + 8)?;
    Some(u64::from_le_bytes(chunk.try_into().ok()?))
}

/// The ring buffer of an object (if it has one) and the stream's exit state.
pub(crate) struct Events {
    ring: Option<(String, RingBuf<MapData>)>,
    stopped: bool,
    exit_code: Option<i64>,
}

impl Events {
    /// Takes the ring buffer named by `meta.ringbuf` out of `ebpf`.
    pub fn open(ebpf: &mut Ebpf, meta: &Metadata) -> Result<Self, RuntimeError> {
        let ring = match &meta.ringbuf {
            None => None,
            Some(name) => Some((name.clone(), take_ring(ebpf, name)?)),
        };
        Ok(Self {
            ring,
            stopped: false,
            exit_code: None,
        })
    }

    /// Whether an exit record has stopped the stream.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The first exit code seen, if any.
    pub fn exit_code(&self) -> Option<i64> {
        self.exit_code
    }

    /// Lets records be printed again (after END has been run).
    pub fn resume(&mut self) {
        self.stopped = false;
    }

    /// Handles every record available now.
    pub fn drain(
        &mut self,
        meta: &Metadata,
        format: OutputFormat,
        out: &mut dyn Write,
    ) -> Result<(), RuntimeError> {
        let Some((_, ring)) = &mut self.ring else {
            return Ok(());
        };
        while let Some(item) = ring.next() {
            if self.stopped {
                continue;
            }
            match classify(&item, meta.formats.len()) {
                Record::Exit(code) => {
                    self.stopped = true;
                    self.exit_code.get_or_insert(code);
                }
                Record::Printf(index) => {
                    out.write_all(render_printf(format, &meta.formats[index], &item).as_bytes())?;
                    out.flush()?;
                }
                Record::Unknown => {}
            }
        }
        Ok(())
    }

    /// Waits until records may be available, a signal arrives or `timeout_ms` passes.
    pub fn wait(&self, timeout_ms: i32) -> Result<(), RuntimeError> {
        let fd = self.ring.as_ref().map(|(_, ring)| ring.as_fd());
        sys::wait_readable(fd, timeout_ms).map_err(|e| RuntimeError::Events {
            map: self
                .ring
                .as_ref()
                .map_or_else(String::new, |(name, _)| name.clone()),
            reason: io_words(&e),
        })
    }
}

fn take_ring(ebpf: &mut Ebpf, name: &str) -> Result<RingBuf<MapData>, RuntimeError> {
    let fail = |reason: String| RuntimeError::Events {
        map: name.to_string(),
        reason,
    };
    let map = ebpf
        .take_map(name)
        .ok_or_else(|| fail("the object has no map of that name".to_string()))?;
    RingBuf::try_from(map).map_err(|e| fail(describe(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn exit_records_carry_a_signed_code() {
        assert_eq!(classify(&record(&[EVENT_EXIT, 3]), 0), Record::Exit(3));
        assert_eq!(
            classify(&record(&[EVENT_EXIT, u64::MAX]), 0),
            Record::Exit(-1)
        );
    }

    #[test]
    fn printf_records_index_the_formats() {
        assert_eq!(
            classify(&record(&[EVENT_PRINTF + 1, 7]), 2),
            Record::Printf(1)
        );
        assert_eq!(classify(&record(&[EVENT_PRINTF + 2]), 2), Record::Unknown);
    }

    #[test]
    fn short_or_unknown_records_are_ignored() {
        assert_eq!(classify(&[1, 2, 3], 1), Record::Unknown);
        assert_eq!(classify(&record(&[EVENT_EXIT]), 1), Record::Unknown);
        assert_eq!(classify(&record(&[7]), 1), Record::Unknown);
    }
}
