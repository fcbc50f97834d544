//! Text (bpftrace's default) layout of a map at exit.
//!
//! Entries are separated by newlines and the map ends with one; `avg`/`stats` maps end
//! with an extra blank line, and each hist entry (`@h[k]: ` then its chart) is followed
//! by a blank line. An empty map prints just its terminator.

use std::fmt::Write as _;

use ebpfc_stdlib::meta::{MapInfo, MapKind};

use super::decode::{divide_i64, Entry, Value};
use super::hist::{self, Scale};
use super::symbols::Symbols;
use super::value::text_key;

/// Appends one map (entries already in print order, values divided by `div`).
pub(super) fn map(
    info: &MapInfo,
    entries: &[Entry],
    div: u64,
    syms: &dyn Symbols,
    out: &mut String,
) {
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&info.name);
        text_key(info, &entry.key, syms, out);
        out.push_str(": ");
        value(info, &entry.value, div, out);
    }
    out.push('\n');
    if matches!(info.kind, MapKind::Avg | MapKind::Stats) {
        out.push('\n');
    }
}

fn value(info: &MapInfo, value: &Value, div: u64, out: &mut String) {
    match value {
        Value::Plain(datum) => datum.divided(div).text(out),
        Value::Stats { count, total } => {
            let average = Value::average(*count, *total);
            if info.kind == MapKind::Stats {
                let _ = write!(out, "count {count}, average {average}, total {total}");
            } else {
                let _ = write!(out, "{}", divide_i64(average, div));
            }
        }
        Value::Buckets(buckets) => {
            out.push('\n');
            if let Some(scale) = Scale::of(&info.kind) {
                hist::text_lines(buckets, scale, div, out);
            }
        }
    }
}
