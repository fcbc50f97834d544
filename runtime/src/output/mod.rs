//! Rendering of events and maps as text (bpftrace's layout) or NDJSON.
//!
//! Every function here is pure: it turns the raw bytes read from the kernel into
//! exactly what bpftrace 0.17 prints for them (JSON: one object a line, after the same two blank lines at exit).
//! What the bytes alone do not tell (the frames of a stack, the symbol at an address)
//! is asked of the caller's [`Symbols`].

mod cformat;
mod cvalue;
mod decode;
mod hist;
mod json;
mod message;
mod printf;
mod resolve;
mod sort;
mod symbols;
#[cfg(test)]
mod tests;
mod text;
mod value;

use ebpfc_stdlib::meta::{Format, MapInfo};

pub use message::{render_cat, render_cat_error, render_join, render_system};
pub use symbols::{NoSymbols, Symbol, Symbols};

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

/// Renders everything printed at exit: `"\n\n"` then every map in name order (in
/// JSON, one line per non-empty map), as bpftrace 0.17 prints it in both formats.
/// Pass every user map, empty ones included: in text an empty map still prints its
/// terminator (a blank line, two for avg/stats), as bpftrace does.
pub fn render_maps(format: OutputFormat, maps: &[MapDump<'_>], syms: &dyn Symbols) -> String {
    let mut sorted: Vec<&MapDump<'_>> = maps.iter().collect();
    sorted.sort_by(|a, b| a.info.name.cmp(&b.info.name));
    let mut out = String::from("\n\n");
    for dump in sorted {
        map_into(format, dump, 0, 1, syms, &mut out);
    }
    out
}

/// Renders `print(@m, top, div)`: the map as the exit dump prints it, without the
/// leading blank lines. `top` > 0 keeps only the last `top` entries in print order
/// (`stats` maps ignore it); `div` > 1 divides the printed values of integer, `avg` and
/// `hist` maps (not `stats` or `lhist`, and hist bars keep their undivided widths), as
/// bpftrace 0.17 does. Entries are ordered by their undivided values.
pub fn render_map(
    format: OutputFormat,
    dump: &MapDump<'_>,
    top: u64,
    div: u64,
    syms: &dyn Symbols,
) -> String {
    let mut out = String::new();
    map_into(format, dump, top, div.max(1), syms, &mut out);
    out
}

/// Appends one map: decoded, sorted, cut to `top` and rendered with `div` (>= 1).
fn map_into(
    format: OutputFormat,
    dump: &MapDump<'_>,
    top: u64,
    div: u64,
    syms: &dyn Symbols,
    out: &mut String,
) {
    let mut entries = decode::entries(dump.info, &dump.entries, syms);
    sort::sort_entries(dump.info, &mut entries);
    sort::keep_top(dump.info, &mut entries, top);
    match format {
        OutputFormat::Text => text::map(dump.info, &entries, div, syms, out),
        OutputFormat::Json => json::map(dump.info, &entries, div, syms, out),
    }
}

/// Renders the output of `time(fmt)`, given the formatted time: the text itself, or
/// one `{"type": "time", "data": "..."}` line.
pub fn render_time(format: OutputFormat, formatted: &[u8]) -> String {
    match format {
        OutputFormat::Text => String::from_utf8_lossy(formatted).into_owned(),
        OutputFormat::Json => {
            let mut out = String::new();
            json::message("time", formatted, &mut out);
            out
        }
    }
}

/// The report of `count` events the ring buffer dropped: `Lost N events` in text (meant
/// for stderr), a `{"type": "lost_events", ...}` line in JSON; both end with a newline.
pub fn render_lost_events(format: OutputFormat, count: u64) -> String {
    match format {
        OutputFormat::Text => format!("Lost {count} events\n"),
        OutputFormat::Json => {
            format!("{{\"type\": \"lost_events\", \"data\": {{\"events\": {count}}}}}\n")
        }
    }
}

/// Renders one printf event; `record` is the whole ring-buffer record (event id first).
/// Text is the formatted string itself; JSON is one `{"type": "printf", ...}` line.
pub fn render_printf(
    format: OutputFormat,
    fmt: &Format,
    record: &[u8],
    syms: &dyn Symbols,
) -> String {
    let bytes = printf::format(fmt, record, syms);
    match format {
        // Bytes that are not UTF-8 are kept (see `ebpfc_stdlib::bytes`).
        OutputFormat::Text => ebpfc_stdlib::bytes::text_of(&bytes),
        OutputFormat::Json if fmt.value => {
            let mut out = String::from(r#"{"type": "value", "data": "#);
            printf::argument_datum(fmt, record, syms).json(&mut out);
            out.push_str("}\n");
            out
        }
        OutputFormat::Json => {
            let mut out = String::new();
            json::message("printf", &bytes, &mut out);
            out
        }
    }
}
