//! Printing of single values and map keys, in text (`(1, a)`, `[1, a]`) and JSON
//! (`[1,"a"]`, `"1,a"`), and bpftrace's JSON string escaping. Stacks are indented by
//! [`KEY_INDENT`] inside keys and by [`VALUE_INDENT`] elsewhere; JSON prints them, and
//! `buf` data, as strings holding their text.

use std::fmt::Write as _;

use ebpfc_stdlib::meta::MapInfo;

use super::cvalue::{self, Place};
use super::decode::{Datum, IntRule};
use super::resolve::{self, HexMode, KEY_INDENT, VALUE_INDENT};
use super::symbols::Symbols;

impl Datum {
    /// Text form of a value: strings raw, tuples as `(a, b)`.
    pub(super) fn text(&self, out: &mut String) {
        let mut bytes = Vec::new();
        self.text_bytes(Place::Value, &mut bytes);
        out.push_str(&ebpfc_stdlib::bytes::text_of(&bytes));
    }

    /// Text form as bytes, keeping strings exactly as stored; stack frames are indented
    /// as `place` says ([`KEY_INDENT`], [`VALUE_INDENT`]).
    pub(super) fn text_bytes(&self, place: Place, out: &mut Vec<u8>) {
        let indent = match place {
            Place::Key => KEY_INDENT,
            Place::Value => VALUE_INDENT,
        };
        match self {
            Datum::Signed(v) => out.extend_from_slice(v.to_string().as_bytes()),
            Datum::Unsigned(v) => out.extend_from_slice(v.to_string().as_bytes()),
            Datum::Str(bytes) => out.extend_from_slice(bytes),
            Datum::Buf(data) => out.extend(resolve::hex_buffer(data, HexMode::Ascii)),
            Datum::Stack(frames) => resolve::stack_text(frames.as_ref(), indent, out),
            Datum::Tuple(items) => {
                out.push(b'(');
                join_bytes(out, items, b", ", |item, out| item.text_bytes(place, out));
                out.push(b')');
            }
            Datum::Struct(fields) => cvalue::struct_text(fields, place, out),
            Datum::Array(items) => cvalue::array_text(items, place, out),
            Datum::Record(fields) => {
                out.push(b'(');
                join_bytes(out, fields, b", ", |(name, item), out| {
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b" = ");
                    item.text_bytes(place, out);
                });
                out.push(b')');
            }
        }
    }

    /// JSON form of a value: strings (and the text of buffers and stacks) quoted and
    /// escaped, tuples as `[a,b]`, records as `{"a": 1, "b": 2}`.
    pub(super) fn json(&self, out: &mut String) {
        match self {
            Datum::Str(_) | Datum::Buf(_) | Datum::Stack(_) => {
                let mut bytes = Vec::new();
                self.text_bytes(Place::Value, &mut bytes);
                out.push('"');
                json_escape(&bytes, out);
                out.push('"');
            }
            Datum::Tuple(items) => {
                out.push('[');
                join(out, items, ",", Datum::json);
                out.push(']');
            }
            Datum::Record(fields) => {
                out.push('{');
                json_fields(fields, out);
                out.push('}');
            }
            Datum::Struct(fields) => cvalue::struct_json(fields, out),
            Datum::Array(items) => cvalue::array_json(items, out),
            Datum::Signed(_) | Datum::Unsigned(_) => self.text(out),
        }
    }
}

/// Writes `items` separated by `sep`.
pub(super) fn join<T>(out: &mut String, items: &[T], sep: &str, each: impl Fn(&T, &mut String)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        each(item, out);
    }
}

/// Named fields in JSON: `"a": 1, "b": 2`.
pub(super) fn json_fields(fields: &[(String, Datum)], out: &mut String) {
    join(out, fields, ", ", |(name, item), out| {
        out.push('"');
        json_escape(name.as_bytes(), out);
        out.push_str("\": ");
        item.json(out);
    });
}

/// Writes `items` as bytes, separated by `sep`.
pub(super) fn join_bytes<T>(
    out: &mut Vec<u8>,
    items: &[T],
    sep: &[u8],
    each: impl Fn(&T, &mut Vec<u8>),
) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        each(item, out);
    }
}

/// The printed fields of a user key: one per tuple field, or a single one.
fn key_fields(info: &MapInfo, key: &[u8], syms: &dyn Symbols) -> Vec<Datum> {
    match info
        .key
        .as_ref()
        .map(|ty| Datum::decode(ty, key, 0, IntRule::Key, syms))
    {
        None => Vec::new(),
        Some(Datum::Tuple(fields)) => fields,
        Some(single) => vec![single],
    }
}

/// The text key suffix of an entry: `[1, a]`, or nothing for scalar maps.
pub(super) fn text_key(info: &MapInfo, key: &[u8], syms: &dyn Symbols, out: &mut String) {
    if info.key.is_some() {
        out.push('[');
        out.push_str(&ebpfc_stdlib::bytes::text_of(&joined_key(
            info, key, b", ", syms,
        )));
        out.push(']');
    }
}

/// The JSON object key of an entry: the fields' text joined by `,`, escaped and quoted.
pub(super) fn json_key(info: &MapInfo, key: &[u8], syms: &dyn Symbols, out: &mut String) {
    out.push('"');
    json_escape(&joined_key(info, key, b",", syms), out);
    out.push('"');
}

/// The text of the key fields separated by `sep`.
fn joined_key(info: &MapInfo, key: &[u8], sep: &[u8], syms: &dyn Symbols) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, field) in key_fields(info, key, syms).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        field.text_bytes(Place::Key, &mut out);
    }
    out
}

/// Escapes a string for JSON as bpftrace does: `\" \\ \n \r \t` named, other control
/// bytes as `\u00XX`, and bytes from 0x80 as `\uffffffXX` (a sign-extended `char`).
pub(super) fn json_escape(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            0x80.. => {
                let _ = write!(out, "\\u{:x}", i32::from(b as i8));
            }
            _ => out.push(char::from(b)),
        }
    }
}
