//! The event stream: decoding ring-buffer records (exit, printf, print, clear, zero,
//! time, cat, join) and acting on them.
//!
//! Invariants: records are handled in ring order; once an exit record has been seen the
//! stream is *stopped* and further records are consumed without effect (as bpftrace
//! ignores events after `exit()`), until [`Events::resume`] is called for END. The first
//! exit code seen is the one reported. A record naming a map, format or string the
//! metadata does not have is ignored. A `cat()` of a file that cannot be read prints an
//! error line on stderr, as bpftrace does, and the stream goes on.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{SystemTime, UNIX_EPOCH};

use aya::maps::{MapData, RingBuf};
use aya::Ebpf;
use ebpfc_stdlib::meta::{
    Metadata, EVENT_CAT, EVENT_CLEAR, EVENT_EXIT, EVENT_JOIN, EVENT_PRINT, EVENT_PRINTF,
    EVENT_TIME, EVENT_UNWATCH, EVENT_ZERO,
};

use crate::error::{describe, io_words, RuntimeError};
use crate::output::{
    render_cat, render_cat_error, render_join, render_map, render_printf, render_system,
    render_time, OutputFormat, Symbols,
};
use crate::sink::Sink;
use crate::{maps, sys};

/// One decoded ring-buffer record; indices are checked against the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    /// `exit(code)`.
    Exit(i64),
    /// A printf event using format `index` of the metadata.
    Printf(usize),
    /// `print(@m, top, div)` of map `map`.
    Print { map: usize, top: u64, div: u64 },
    /// `clear(@m)`.
    Clear(usize),
    /// `zero(@m)`.
    Zero(usize),
    /// `time(fmt)` with the format string at this index of `Metadata::strings`.
    Time(usize),
    /// `cat(path)`; the path is the rest of the record.
    Cat,
    /// `join(array, sep)` with the separator at this index of `Metadata::strings`.
    Join(usize),
    /// `unwatch(addr)`.
    Unwatch(u64),
    /// A record too short for its id, with an id this runtime does not know, or with an
    /// index out of range.
    Unknown,
}

/// Decodes the event id and fields of `record`.
pub(crate) fn classify(record: &[u8], meta: &Metadata) -> Record {
    let field = |i: usize| read_u64(record, 8 * i);
    let index = |i: usize, len: usize| {
        field(i)
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v < len)
    };
    let maps = meta.maps.len();
    let decoded = match field(0) {
        Some(EVENT_EXIT) => field(1).map(|code| Record::Exit(code as i64)),
        Some(EVENT_PRINT) => index(1, maps).and_then(|map| {
            let (top, div) = (field(2)?, field(3)?);
            Some(Record::Print { map, top, div })
        }),
        Some(EVENT_CLEAR) => index(1, maps).map(Record::Clear),
        Some(EVENT_ZERO) => index(1, maps).map(Record::Zero),
        Some(EVENT_TIME) => index(1, meta.strings.len()).map(Record::Time),
        Some(EVENT_CAT) => Some(Record::Cat),
        Some(EVENT_UNWATCH) => field(1).map(Record::Unwatch),
        Some(EVENT_JOIN) => index(1, meta.strings.len())
            .filter(|_| field(2).is_some())
            .map(Record::Join),
        Some(id) => id
            .checked_sub(EVENT_PRINTF)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < meta.formats.len())
            .map(Record::Printf),
        None => None,
    };
    decoded.unwrap_or(Record::Unknown)
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
    /// Addresses `unwatch()` asked for since the session last took them.
    unwatched: Vec<u64>,
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
            unwatched: Vec::new(),
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

    /// The addresses `unwatch()` asked for since the last call.
    pub fn take_unwatched(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.unwatched)
    }

    /// Lets records take effect again (after END has been run).
    pub fn resume(&mut self) {
        self.stopped = false;
    }

    /// Handles every record available now; `ebpf` holds the maps records act on and
    /// `syms` resolves the stacks and symbols they print.
    pub fn drain(
        &mut self,
        ebpf: &Ebpf,
        meta: &Metadata,
        syms: &dyn Symbols,
        sink: &mut Sink<'_>,
    ) -> Result<(), RuntimeError> {
        let Some((_, ring)) = &mut self.ring else {
            return Ok(());
        };
        while let Some(item) = ring.next() {
            if self.stopped {
                continue;
            }
            match classify(&item, meta) {
                Record::Exit(code) => {
                    self.stopped = true;
                    self.exit_code.get_or_insert(code);
                }
                Record::Unwatch(addr) => self.unwatched.push(addr),
                record => act(record, &item, ebpf, meta, syms, sink)?,
            }
        }
        Ok(())
    }

    /// The ring buffer's fd, to wait on.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.ring.as_ref().map(|(_, ring)| ring.as_fd())
    }

    /// Waits until records may be available (or `extra` is readable), a signal arrives
    /// or `timeout_ms` passes.
    pub fn wait(&self, extra: Option<BorrowedFd<'_>>, timeout_ms: i32) -> Result<(), RuntimeError> {
        let fds: Vec<BorrowedFd<'_>> = self.fd().into_iter().chain(extra).collect();
        sys::wait_readable(&fds, timeout_ms).map_err(|e| RuntimeError::Events {
            map: self
                .ring
                .as_ref()
                .map_or_else(String::new, |(name, _)| name.clone()),
            reason: io_words(&e),
        })
    }
}

/// Carries out one record other than exit.
fn act(
    record: Record,
    bytes: &[u8],
    ebpf: &Ebpf,
    meta: &Metadata,
    syms: &dyn Symbols,
    sink: &mut Sink<'_>,
) -> Result<(), RuntimeError> {
    let format = sink.format();
    match record {
        Record::Printf(index) if meta.formats[index].cat => {
            let path = render_printf(OutputFormat::Text, &meta.formats[index], bytes, syms);
            cat(&ebpfc_stdlib::bytes::literal_bytes(&path), sink)?
        }
        Record::Printf(index) if meta.formats[index].system => {
            let command = render_printf(OutputFormat::Text, &meta.formats[index], bytes, syms);
            system(&command, sink)?
        }
        Record::Printf(index) => match &meta.formats[index].stderr_prefix {
            Some(prefix) => {
                let text = render_printf(OutputFormat::Text, &meta.formats[index], bytes, syms);
                sink.flush()?;
                eprintln!("{prefix}{}", text.trim_end_matches('\n'));
            }
            None => sink.event(&render_printf(format, &meta.formats[index], bytes, syms))?,
        },
        Record::Print { map, top, div } => {
            let dump = maps::dump(ebpf, &meta.maps[map])?;
            sink.event(&render_map(format, &dump, top, div, syms))?;
        }
        Record::Clear(map) => maps::clear(ebpf, &meta.maps[map])?,
        Record::Zero(map) => maps::zero(ebpf, &meta.maps[map])?,
        Record::Time(index) => {
            sink.event(&render_time(format, &local_time(&meta.strings[index])))?
        }
        Record::Cat => cat(bytes.get(8..).unwrap_or_default(), sink)?,
        Record::Join(sep) => {
            sink.event(&render_join(format, meta.strings[sep].as_bytes(), bytes))?
        }
        Record::Exit(_) | Record::Unwatch(_) | Record::Unknown => {}
    }
    Ok(())
}

/// Runs `command` with `sh -c` and prints what it writes to stdout (`system()`); a
/// command that cannot start is reported on stderr and the run goes on.
fn system(command: &str, sink: &mut Sink<'_>) -> Result<(), RuntimeError> {
    let format = sink.format();
    match std::process::Command::new("/bin/sh")
        .args(["-c", command])
        .output()
    {
        Ok(out) => sink.event_bytes(&render_system(format, &out.stdout))?,
        Err(e) => {
            sink.flush()?;
            eprintln!("ERROR: system() could not run '{command}': {}", c_words(&e));
        }
    }
    Ok(())
}

/// Prints the file named by the NUL-terminated `path` (at most the sink's
/// [`Sink::cat_bytes_max`] bytes of it), or its error line on stderr (in JSON, followed by an empty `cat` line).
fn cat(path: &[u8], sink: &mut Sink<'_>) -> Result<(), RuntimeError> {
    let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
    let format = sink.format();
    match read_head(path, sink.cat_bytes_max()) {
        Ok(contents) => sink.event_bytes(&render_cat(format, &contents))?,
        Err(e) => {
            sink.flush()?;
            eprint!("{}", render_cat_error(path, &c_words(&e)));
            if format == OutputFormat::Json {
                sink.event_bytes(&render_cat(format, b""))?;
            }
        }
    }
    Ok(())
}

/// The first `max` bytes of the file at `path`.
fn read_head(path: &[u8], max: u64) -> io::Result<Vec<u8>> {
    let mut contents = Vec::new();
    File::open(OsStr::from_bytes(path))?
        .take(max)
        .read_to_end(&mut contents)?;
    Ok(contents)
}

/// The C library's words for an I/O error (`No such file or directory`), as
/// strerror(3) gives them, without Rust's `(os error N)`.
fn c_words(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

/// The current local time formatted with the strftime `format` (empty if the clock
/// cannot be read).
fn local_time(format: &str) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    sys::Calendar::local(now).map_or_else(|_| Vec::new(), |tm| tm.format(format))
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
    use ebpfc_stdlib::meta::{Format, MapInfo, MapKind, Ty};

    use super::*;

    fn record(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Metadata with `n` maps, formats and strings.
    fn meta(n: usize) -> Metadata {
        let map = MapInfo {
            name: "@m".into(),
            elf_name: "m".into(),
            kind: MapKind::Count,
            key: None,
            key_size: 0,
            value: Ty::Int {
                size: 8,
                signed: true,
            },
            per_cpu: true,
        };
        let format = Format {
            template: "x".into(),
            args: vec![],
            system: false,
            stderr_prefix: None,
            value: false,
            cat: false,
        };
        Metadata {
            maps: vec![map; n],
            formats: vec![format; n],
            strings: vec!["%H".into(); n],
            ..Default::default()
        }
    }

    #[test]
    fn exit_records_carry_a_signed_code() {
        assert_eq!(
            classify(&record(&[EVENT_EXIT, 3]), &meta(0)),
            Record::Exit(3)
        );
        assert_eq!(
            classify(&record(&[EVENT_EXIT, u64::MAX]), &meta(0)),
            Record::Exit(-1)
        );
    }

    #[test]
    fn printf_records_index_the_formats() {
        assert_eq!(
            classify(&record(&[EVENT_PRINTF + 1, 7]), &meta(2)),
            Record::Printf(1)
        );
        assert_eq!(
            classify(&record(&[EVENT_PRINTF + 2]), &meta(2)),
            Record::Unknown
        );
    }

    #[test]
    fn map_records_index_the_maps() {
        let m = meta(2);
        assert_eq!(
            classify(&record(&[EVENT_PRINT, 1, 5, 2]), &m),
            Record::Print {
                map: 1,
                top: 5,
                div: 2
            }
        );
        assert_eq!(classify(&record(&[EVENT_CLEAR, 0]), &m), Record::Clear(0));
        assert_eq!(classify(&record(&[EVENT_ZERO, 1]), &m), Record::Zero(1));
        assert_eq!(classify(&record(&[EVENT_ZERO, 2]), &m), Record::Unknown);
        assert_eq!(classify(&record(&[EVENT_PRINT, 1, 5]), &m), Record::Unknown);
    }

    #[test]
    fn unwatch_records_carry_the_address() {
        assert_eq!(
            classify(&record(&[EVENT_UNWATCH, 0x4040]), &meta(0)),
            Record::Unwatch(0x4040)
        );
        assert_eq!(
            classify(&record(&[EVENT_UNWATCH]), &meta(0)),
            Record::Unknown
        );
    }

    #[test]
    fn time_records_index_the_strings() {
        assert_eq!(
            classify(&record(&[EVENT_TIME, 1]), &meta(2)),
            Record::Time(1)
        );
        assert_eq!(
            classify(&record(&[EVENT_TIME, 2]), &meta(2)),
            Record::Unknown
        );
    }

    #[test]
    fn cat_and_join_records() {
        let m = meta(2);
        assert_eq!(classify(&record(&[EVENT_CAT]), &m), Record::Cat);
        assert_eq!(classify(&record(&[EVENT_JOIN, 1, 3]), &m), Record::Join(1));
        assert_eq!(classify(&record(&[EVENT_JOIN, 2, 3]), &m), Record::Unknown);
        assert_eq!(classify(&record(&[EVENT_JOIN, 1]), &m), Record::Unknown);
    }

    /// A temporary file holding `contents`, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &[u8]) -> Self {
            let path = std::env::temp_dir().join(format!("ebpfc-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Runs `cat` on `path` into a fresh sink; returns what reached the output.
    fn cat_output(format: OutputFormat, path: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut sink = Sink::with_policy(&mut out, format, false);
        let mut record = path.to_vec();
        record.extend_from_slice(&[0, b'x']);
        cat(&record, &mut sink).unwrap();
        sink.flush().unwrap();
        drop(sink);
        out
    }

    /// bpftrace 0.17: `BEGIN { cat("/tmp/c.txt"); printf("|\n"); ... }` with the file
    /// holding `line1\nline2` printed `line1\nline2|`; in JSON
    /// `{"type": "cat", "data": "line1\nline2"}`. A 20000-byte file printed 10240 bytes.
    #[test]
    fn cat_prints_the_file_as_bpftrace_does() {
        let file = TempFile::new("cat", b"line1\nline2");
        let path = file.0.as_os_str().as_bytes();
        assert_eq!(cat_output(OutputFormat::Text, path), b"line1\nline2");
        assert_eq!(
            cat_output(OutputFormat::Json, path),
            b"{\"type\": \"cat\", \"data\": \"line1\\nline2\"}\n"
        );
        let big = TempFile::new("big", &[b'a'; 20000]);
        let printed = cat_output(OutputFormat::Text, big.0.as_os_str().as_bytes());
        assert_eq!(printed.len(), 10240);
    }

    /// bpftrace 0.17 printed `ERROR: failed to open file '/nonexistent/f': No such file
    /// or directory` on stderr and nothing on stdout (in JSON, `{"type": "cat", "data":
    /// ""}`); for a directory the reason was `Is a directory`.
    #[test]
    fn cat_of_a_missing_file_goes_on() {
        assert_eq!(cat_output(OutputFormat::Text, b"/nonexistent/f"), b"");
        assert_eq!(
            cat_output(OutputFormat::Json, b"/nonexistent/f"),
            b"{\"type\": \"cat\", \"data\": \"\"}\n"
        );
        let err = read_head(b"/nonexistent/f", 10).unwrap_err();
        assert_eq!(
            render_cat_error(b"/nonexistent/f", &c_words(&err)),
            "ERROR: failed to open file '/nonexistent/f': No such file or directory\n"
        );
        let err = read_head(b"/tmp", 10).unwrap_err();
        assert_eq!(c_words(&err), "Is a directory");
    }

    #[test]
    fn short_or_unknown_records_are_ignored() {
        assert_eq!(classify(&[1, 2, 3], &meta(1)), Record::Unknown);
        assert_eq!(classify(&record(&[EVENT_EXIT]), &meta(1)), Record::Unknown);
        assert_eq!(classify(&record(&[7]), &meta(1)), Record::Unknown);
    }
}
