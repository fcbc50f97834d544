//! The output of `cat()`, `system()` and `join()` events, as bpftrace 0.17 prints it:
//! in text the file's (or command's) bytes as they are and the joined strings followed
//! by a newline; in JSON one `{"type": "cat", ...}`, `{"type": "syscall", ...}` or
//! `{"type": "join", ...}` line (a failed `cat` still prints an empty one, after its
//! error line on stderr).

use ebpfc_stdlib::meta::{JOIN_ARGS, JOIN_ARG_SIZE};

use super::decode::{read_cstr, read_u64};
use super::{json, OutputFormat};

/// Offset of the element count in a `join()` record.
const JOIN_COUNT_AT: usize = 16;
/// Offset of the first element in a `join()` record.
const JOIN_FIRST_AT: usize = 24;

/// Renders `cat(path)` given the bytes read from the file.
pub fn render_cat(format: OutputFormat, contents: &[u8]) -> Vec<u8> {
    render_output("cat", format, contents)
}

/// Renders what a `system()` command wrote to stdout (`syscall` in JSON).
pub fn render_system(format: OutputFormat, contents: &[u8]) -> Vec<u8> {
    render_output("syscall", format, contents)
}

fn render_output(kind: &str, format: OutputFormat, contents: &[u8]) -> Vec<u8> {
    match format {
        OutputFormat::Text => contents.to_vec(),
        OutputFormat::Json => {
            let mut out = String::new();
            json::message(kind, contents, &mut out);
            out.into_bytes()
        }
    }
}

/// The error line (for stderr) of a `cat(path)` whose file could not be read, with the
/// C library's words for the error (`No such file or directory`).
pub fn render_cat_error(path: &[u8], reason: &str) -> String {
    format!(
        "ERROR: failed to open file '{}': {reason}\n",
        String::from_utf8_lossy(path)
    )
}

/// Renders a `join()` record (event id, separator index, element count, then the
/// elements, see `meta::EVENT_JOIN`) with separator `sep`. Like bpftrace, the elements
/// end at the first empty one.
pub fn render_join(format: OutputFormat, sep: &[u8], record: &[u8]) -> String {
    let count = read_u64(record, JOIN_COUNT_AT, 8).min(u64::from(JOIN_ARGS)) as usize;
    let size = JOIN_ARG_SIZE as usize;
    let mut joined = Vec::new();
    for i in 0..count {
        let element = read_cstr(record, JOIN_FIRST_AT + i * size, size);
        if element.is_empty() {
            break;
        }
        if i > 0 {
            joined.extend_from_slice(sep);
        }
        joined.extend_from_slice(&element);
    }
    match format {
        OutputFormat::Text => {
            joined.push(b'\n');
            ebpfc_stdlib::bytes::text_of(&joined)
        }
        OutputFormat::Json => {
            let mut out = String::new();
            json::message("join", &joined, &mut out);
            out
        }
    }
}
