//! Formatting of printf events the way bpftrace 0.17 does it.
//!
//! bpftrace finds its conversions with the pattern
//! `%-?[0-9]*(\.[0-9]+)?(c|s|r|rx|rh|(hh|h|ll|l|j|z|t)?[duxXop])`, so `%i`, `%+d`, `%#x`
//! or `%%` are not conversions to it. It cuts the template after each conversion and
//! formats each piece with C `snprintf` and that piece's one argument (so a `%%` before a
//! conversion prints `%`, and the piece's output stops at a NUL byte); the text after the
//! last conversion is copied unchanged. When the number of such conversions differs from
//! the number of arguments, the whole template is formatted as one C format string
//! instead.
//!
//! `buf()` arguments are passed as text: a piece whose conversion is exactly `%r`, `%rx`
//! or `%rh` has every `%r[x|h]?` in it replaced by `%s` and gets the buffer in that
//! conversion's [`HexMode`]; any other conversion (`%s`, `%5r`, which glibc prints
//! literally) gets it as `%r` prints it.

use ebpfc_stdlib::meta::Format;

use super::cformat::{self, Arg};
use super::cvalue::Place;
use super::decode::{Datum, IntRule};
use super::resolve::{hex_buffer, HexMode};
use super::symbols::Symbols;

/// The single argument of a `print(value)` event.
pub(super) fn argument_datum(fmt: &Format, record: &[u8], syms: &dyn Symbols) -> Datum {
    match fmt.args.first() {
        Some(f) => Datum::decode(&f.ty, record, f.offset as usize, IntRule::Typed, syms),
        None => Datum::Str(Vec::new()),
    }
}

/// The formatted text of one printf event (`record` includes the leading event id).
pub(super) fn format(fmt: &Format, record: &[u8], syms: &dyn Symbols) -> Vec<u8> {
    let args: Vec<Datum> = fmt
        .args
        .iter()
        .map(|f| Datum::decode(&f.ty, record, f.offset as usize, IntRule::Typed, syms))
        .collect();
    let template = &ebpfc_stdlib::bytes::literal_bytes(&fmt.template);
    let ends = conversion_ends(template);
    let mut out = Vec::new();
    if ends.len() == args.len() {
        let mut start = 0;
        for (end, arg) in ends.iter().zip(&args) {
            piece(&template[start..*end], arg, &mut out);
            start = *end;
        }
        out.extend_from_slice(&template[start..]);
    } else {
        let args: Vec<Arg> = args.iter().map(|a| argument(a, HexMode::Ascii)).collect();
        cformat::format(template, &mut args.iter(), &mut out);
    }
    out
}

/// Formats one piece with its argument and appends the output up to any NUL.
fn piece(text: &[u8], arg: &Datum, out: &mut Vec<u8>) {
    let (text, mode) = buffer_conversion(text);
    let mut buf = Vec::new();
    cformat::format(&text, &mut std::iter::once(&argument(arg, mode)), &mut buf);
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    out.extend_from_slice(&buf[..len]);
}

/// The piece to format and how a buffer argument is written: for a piece whose
/// conversion (from its last `%`) is `%r`, `%rx` or `%rh`, the piece with every
/// `%r[x|h]?` replaced by `%s` and that conversion's mode; otherwise the piece as is.
fn buffer_conversion(text: &[u8]) -> (Vec<u8>, HexMode) {
    let conversion = text
        .iter()
        .rposition(|&b| b == b'%')
        .map_or(&[][..], |i| &text[i..]);
    let mode = match conversion {
        b"%r" => HexMode::Ascii,
        b"%rx" => HexMode::Escaped,
        b"%rh" => HexMode::Spaced,
        _ => return (text.to_vec(), HexMode::Ascii),
    };
    let mut replaced = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' && text.get(i + 1) == Some(&b'r') {
            replaced.extend_from_slice(b"%s");
            i += 2;
            if matches!(text.get(i), Some(b'x' | b'|' | b'h')) {
                i += 1;
            }
        } else {
            replaced.push(text[i]);
            i += 1;
        }
    }
    (replaced, mode)
}

/// An argument as the C conversion gets it: integers extended to 64 bits by their
/// signedness, buffers as their text in `mode`, stacks and tuples as their text.
fn argument(datum: &Datum, mode: HexMode) -> Arg {
    match datum {
        Datum::Signed(v) => Arg::Int(*v as u64),
        Datum::Unsigned(v) => Arg::Int(*v),
        Datum::Str(s) => Arg::Str(s.clone()),
        Datum::Buf(data) => Arg::Str(hex_buffer(data, mode)),
        Datum::Tuple(_)
        | Datum::Record(_)
        | Datum::Stack(_)
        | Datum::Struct(_)
        | Datum::Array(_) => {
            let mut text = Vec::new();
            datum.text_bytes(Place::Value, &mut text);
            Arg::Str(text)
        }
    }
}

/// The end offsets of the conversions bpftrace recognises in `template`.
fn conversion_ends(template: &[u8]) -> Vec<usize> {
    ebpfc_stdlib::format::conversions(template, false)
        .into_iter()
        .map(|(end, _)| end)
        .collect()
}
