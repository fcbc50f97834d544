//! Formatting of printf events the way bpftrace 0.17 does it.
//!
//! bpftrace finds its conversions with the pattern
//! `%-?[0-9]*(\.[0-9]+)?(c|s|(hh|h|ll|l|j|z|t)?[duxXop])`, so `%i`, `%+d`, `%#x` or `%%`
//! are not conversions to it. It cuts the template after each conversion and formats each
//! piece with C `snprintf` and that piece's one argument (so a `%%` before a conversion
//! prints `%`, and the piece's output stops at a NUL byte); the text after the last
//! conversion is copied unchanged. When the number of such conversions differs from the
//! number of arguments, the whole template is formatted as one C format string instead.

use ebpfc_stdlib::meta::{Field, Format};

use super::cformat::{self, Arg};
use super::decode::{Datum, IntRule};

/// The formatted text of one printf event (`record` includes the leading event id).
pub(super) fn format(fmt: &Format, record: &[u8]) -> Vec<u8> {
    let args: Vec<Arg> = fmt.args.iter().map(|f| argument(f, record)).collect();
    let template = fmt.template.as_bytes();
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
        let mut all = args.iter();
        cformat::format(template, &mut all, &mut out);
    }
    out
}

/// Formats one piece with its argument and appends the output up to any NUL.
fn piece(text: &[u8], arg: &Arg, out: &mut Vec<u8>) {
    let mut buf = Vec::new();
    cformat::format(text, &mut std::iter::once(arg), &mut buf);
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    out.extend_from_slice(&buf[..len]);
}

/// Reads one argument from the event record; integers are extended to 64 bits by their
/// signedness and tuples are passed as their text.
fn argument(field: &Field, record: &[u8]) -> Arg {
    match Datum::decode(&field.ty, record, field.offset as usize, IntRule::Typed) {
        Datum::Signed(v) => Arg::Int(v as u64),
        Datum::Unsigned(v) => Arg::Int(v),
        Datum::Str(s) => Arg::Str(s),
        tuple @ Datum::Tuple(_) => {
            let mut text = Vec::new();
            tuple.text_bytes(&mut text);
            Arg::Str(text)
        }
    }
}

/// The end offsets of the conversions bpftrace recognises in `template`.
fn conversion_ends(template: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut i = 0;
    while i < template.len() {
        match (template[i] == b'%')
            .then(|| match_conversion(template, i + 1))
            .flatten()
        {
            Some(end) => {
                ends.push(end);
                i = end;
            }
            None => i += 1,
        }
    }
    ends
}

/// Matches `-?[0-9]*(\.[0-9]+)?(c|s|(hh|h|ll|l|j|z|t)?[duxXop])` at `i`; returns its end.
fn match_conversion(t: &[u8], mut i: usize) -> Option<usize> {
    let at = |i: usize| t.get(i).copied().unwrap_or(0);
    if at(i) == b'-' {
        i += 1;
    }
    while at(i).is_ascii_digit() {
        i += 1;
    }
    if at(i) == b'.' && at(i + 1).is_ascii_digit() {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    let integer = |c: u8| b"duxXop".contains(&c);
    if matches!((at(i), at(i + 1)), (b'h', b'h') | (b'l', b'l')) && integer(at(i + 2)) {
        Some(i + 3)
    } else if b"hljzt".contains(&at(i)) && integer(at(i + 1)) {
        Some(i + 2)
    } else if integer(at(i)) || matches!(at(i), b'c' | b's') {
        Some(i + 1)
    } else {
        None
    }
}
