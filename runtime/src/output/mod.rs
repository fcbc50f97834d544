//! Rendering of events and maps as text (bpftrace's layout) or NDJSON.
//!
//! Both functions are pure: they turn the raw bytes read from the kernel into exactly
//! what bpftrace 0.17 prints for them.

mod cformat;
mod decode;
mod hist;
mod json;
mod printf;
mod sort;
#[cfg(test)]
mod tests;
mod text;
mod value;

use ebpfc_stdlib::meta::{Format, MapInfo};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// The raw contents of one map as read from the kernel.
#[derive(Debug, Clone)]
pub struct MapDump<'a> {
    pub info: &'a MapInfo,
    pub entries: Vec<RawEntry>,
}

/// One BPF map entry: the full BPF key and its value (one per CPU for per-CPU maps).
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry {
    pub key: Vec<u8>,
    pub values: Vec<Vec<u8>>,
}

/// Renders everything printed at exit: in text, `"\n\n"` then every map in name order;
/// in JSON, one line per non-empty map and nothing else, so every line is an object.
/// Pass every user map, empty ones included: in text an empty map still prints its
/// terminator (a blank line, two for avg/stats), as bpftrace does.
pub fn render_maps(format: OutputFormat, maps: &[MapDump<'_>]) -> String {
    let mut sorted: Vec<&MapDump<'_>> = maps.iter().collect();
    sorted.sort_by(|a, b| a.info.name.cmp(&b.info.name));
    let mut out = match format {
        OutputFormat::Text => String::from("\n\n"),
        OutputFormat::Json => String::new(),
    };
    for dump in sorted {
        let mut entries = decode::entries(dump.info, &dump.entries);
        sort::sort_entries(dump.info, &mut entries);
        match format {
            OutputFormat::Text => text::map(dump.info, &entries, &mut out),
            OutputFormat::Json => json::map(dump.info, &entries, &mut out),
        }
    }
    out
}

/// Renders one printf event; `record` is the whole ring-buffer record (event id first).
/// Text is the formatted string itself; JSON is one `{"type": "printf", ...}` line.
pub fn render_printf(format: OutputFormat, fmt: &Format, record: &[u8]) -> String {
    let bytes = printf::format(fmt, record);
    match format {
        OutputFormat::Text => String::from_utf8_lossy(&bytes).into_owned(),
        OutputFormat::Json => {
            let mut out = String::new();
            json::printf(&bytes, &mut out);
            out
        }
    }
}
