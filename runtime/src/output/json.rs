//! JSON (`-f json`) layout of a map at exit: one line
//! `{"type": T, "data": {"@name": V}}` per non-empty map, where T is `map`, `stats`
//! (avg and stats) or `hist` (hist and lhist), and V is the scalar value or an object
//! `{"key": value, ...}` in print order.

use std::fmt::Write as _;

use ebpfc_stdlib::meta::{MapInfo, MapKind};

use super::decode::{divide_i64, Entry, Value};
use super::hist::{self, Scale};
use super::symbols::Symbols;
use super::value::{json_escape, json_key};

/// Appends one map (entries already in print order, values divided by `div`); empty
/// maps print nothing.
pub(super) fn map(
    info: &MapInfo,
    entries: &[Entry],
    div: u64,
    syms: &dyn Symbols,
    out: &mut String,
) {
    if entries.is_empty() {
        return;
    }
    let keyed = info.key.is_some();
    let _ = write!(
        out,
        "{{\"type\": \"{}\", \"data\": {{\"",
        message_type(&info.kind)
    );
    json_escape(info.name.as_bytes(), out);
    out.push_str("\": ");
    if keyed {
        out.push('{');
    }
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if keyed {
            json_key(info, &entry.key, syms, out);
            out.push_str(": ");
        }
        value(info, &entry.value, div, out);
    }
    if keyed {
        out.push('}');
    }
    out.push_str("}}\n");
}

fn message_type(kind: &MapKind) -> &'static str {
    match kind {
        MapKind::Avg | MapKind::Stats => "stats",
        MapKind::Hist { .. } | MapKind::Lhist { .. } => "hist",
        _ => "map",
    }
}

fn value(info: &MapInfo, value: &Value, div: u64, out: &mut String) {
    match value {
        Value::Plain(datum) => datum.divided(div).json(out),
        Value::Stats { count, total } => {
            let average = Value::average(*count, *total);
            if info.kind == MapKind::Stats {
                let _ = write!(
                    out,
                    "{{\"count\": {count}, \"average\": {average}, \"total\": {total}}}"
                );
            } else {
                let _ = write!(out, "{}", divide_i64(average, div));
            }
        }
        Value::Buckets(buckets) => {
            if let Some(scale) = Scale::of(&info.kind) {
                hist::json_array(buckets, scale, div, out);
            }
        }
    }
}

/// Appends one text message (printf, time): `{"type": T, "data": "..."}`.
pub(super) fn message(kind: &str, text: &[u8], out: &mut String) {
    let _ = write!(out, "{{\"type\": \"{kind}\", \"data\": \"");
    json_escape(text, out);
    out.push_str("\"}\n");
}
