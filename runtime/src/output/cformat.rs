//! A C `printf` interpreter over byte strings: flags `- + space # 0`, width, precision,
//! length modifiers and the conversions `d i o u x X c s p %`, with glibc's output.
//!
//! Integer arguments are passed as 64-bit values (already sign- or zero-extended); the
//! length modifier decides how many bits the conversion reads, as with C varargs: none
//! reads an `int`, `hh` a `char`, `h` a `short`, `l ll j z t q L` a 64-bit value.

/// An argument as passed to the conversion.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Int(u64),
    Str(Vec<u8>),
}

/// How many bits of an integer argument a conversion reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    Int,
    Char,
    Short,
    Long,
}

/// One parsed conversion specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
    length: Option<Length>,
    conv: u8,
}

/// Interprets `text` as a C format string, taking arguments from `args` in order.
/// Conversions left without an argument, and unknown ones, are copied literally.
pub(super) fn format<'a>(text: &[u8], args: &mut impl Iterator<Item = &'a Arg>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'%' {
            out.push(text[i]);
            i += 1;
            continue;
        }
        let Some((spec, end)) = parse(text, i + 1) else {
            out.extend_from_slice(&text[i..]);
            return;
        };
        convert(&spec, &text[i..end], args, out);
        i = end;
    }
}

/// Parses the specification after a `%` at `start`; returns it and the end offset, or
/// `None` when the text ends first.
fn parse(text: &[u8], start: usize) -> Option<(Spec, usize)> {
    let mut spec = Spec::default();
    let mut i = start;
    while let Some(&c) = text.get(i) {
        match c {
            b'-' => spec.left = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.alt = true,
            b'0' => spec.zero = true,
            _ => break,
        }
        i += 1;
    }
    (spec.width, i) = digits(text, i);
    if text.get(i) == Some(&b'.') {
        let (precision, end) = digits(text, i + 1);
        (spec.precision, i) = (Some(precision), end);
    }
    (spec.length, i) = length(text, i);
    spec.conv = *text.get(i)?;
    Some((spec, i + 1))
}

/// A decimal number at `i` (0 when there is none) and the offset after it.
fn digits(text: &[u8], mut i: usize) -> (usize, usize) {
    let mut n = 0usize;
    while let Some(d) = text.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    (n, i)
}

/// A length modifier at `i`, if any, and the offset after it.
fn length(text: &[u8], i: usize) -> (Option<Length>, usize) {
    let pair = (text.get(i).copied(), text.get(i + 1).copied());
    match pair {
        (Some(b'h'), Some(b'h')) => (Some(Length::Char), i + 2),
        (Some(b'l'), Some(b'l')) => (Some(Length::Long), i + 2),
        (Some(b'h'), _) => (Some(Length::Short), i + 1),
        (Some(b'l' | b'j' | b'z' | b't' | b'q' | b'L'), _) => (Some(Length::Long), i + 1),
        _ => (None, i),
    }
}

/// Performs one conversion; `literal` is its whole text, copied when it cannot be done.
fn convert<'a>(
    spec: &Spec,
    literal: &[u8],
    args: &mut impl Iterator<Item = &'a Arg>,
    out: &mut Vec<u8>,
) {
    if spec.conv == b'%' {
        out.push(b'%');
        return;
    }
    if !b"diouxXcsp".contains(&spec.conv) {
        out.extend_from_slice(literal);
        return;
    }
    match args.next() {
        Some(arg) => out.extend_from_slice(&render(spec, arg)),
        None => out.extend_from_slice(literal),
    }
}

/// The output of one conversion of `arg`, padded to the field width.
fn render(spec: &Spec, arg: &Arg) -> Vec<u8> {
    match (spec.conv, arg) {
        (b's', Arg::Str(s)) => pad(spec, precision_cut(spec, s)),
        (b's', Arg::Int(v)) => pad(spec, (*v as i64).to_string().as_bytes()),
        (b'c', Arg::Int(v)) => pad(spec, &[*v as u8]),
        (b'c', Arg::Str(s)) => pad(spec, &s[..s.len().min(1)]),
        (_, Arg::Str(s)) => pad(spec, s),
        (b'p', Arg::Int(0)) => pad(spec, b"(nil)"),
        (_, Arg::Int(v)) => integer(spec, *v),
    }
}

/// A string cut to the precision, if any.
fn precision_cut<'s>(spec: &Spec, s: &'s [u8]) -> &'s [u8] {
    &s[..spec.precision.map_or(s.len(), |p| p.min(s.len()))]
}

/// Pads `body` with spaces to the width, on the left unless `-` was given.
fn pad(spec: &Spec, body: &[u8]) -> Vec<u8> {
    let fill = vec![b' '; spec.width.saturating_sub(body.len())];
    if spec.left {
        [body, &fill].concat()
    } else {
        [&fill, body].concat()
    }
}

/// An integer conversion (`d i o u x X p`) of the 64-bit argument `raw`.
fn integer(spec: &Spec, raw: u64) -> Vec<u8> {
    let pointer = spec.conv == b'p';
    let length = if pointer {
        Length::Long
    } else {
        spec.length.unwrap_or(Length::Int)
    };
    let (negative, magnitude) = if matches!(spec.conv, b'd' | b'i') {
        let v = signed(raw, length);
        (v < 0, v.unsigned_abs())
    } else {
        (false, unsigned(raw, length))
    };
    let digits = number_digits(spec, magnitude);
    let prefix = prefix(spec, negative, magnitude, pointer);
    assemble(spec, &prefix, &digits)
}

fn signed(raw: u64, length: Length) -> i64 {
    match length {
        Length::Int => i64::from(raw as u32 as i32),
        Length::Char => i64::from(raw as u8 as i8),
        Length::Short => i64::from(raw as u16 as i16),
        Length::Long => raw as i64,
    }
}

fn unsigned(raw: u64, length: Length) -> u64 {
    match length {
        Length::Int => u64::from(raw as u32),
        Length::Char => u64::from(raw as u8),
        Length::Short => u64::from(raw as u16),
        Length::Long => raw,
    }
}

/// The digits of `magnitude` in the conversion's base, zero-extended to the precision.
fn number_digits(spec: &Spec, magnitude: u64) -> Vec<u8> {
    let text = match spec.conv {
        b'o' => format!("{magnitude:o}"),
        b'x' | b'p' => format!("{magnitude:x}"),
        b'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let text = if spec.precision == Some(0) && magnitude == 0 {
        String::new()
    } else {
        text
    };
    let mut digits = vec![b'0'; spec.precision.unwrap_or(0).saturating_sub(text.len())];
    digits.extend_from_slice(text.as_bytes());
    if spec.conv == b'o' && spec.alt && digits.first() != Some(&b'0') {
        digits.insert(0, b'0');
    }
    digits
}

/// The sign and `0x` prefix written before the digits (and before zero padding).
fn prefix(spec: &Spec, negative: bool, magnitude: u64, pointer: bool) -> Vec<u8> {
    let mut prefix = Vec::new();
    if matches!(spec.conv, b'd' | b'i') {
        if negative {
            prefix.push(b'-');
        } else if spec.plus {
            prefix.push(b'+');
        } else if spec.space {
            prefix.push(b' ');
        }
    }
    let hex = pointer || (spec.alt && magnitude != 0 && matches!(spec.conv, b'x' | b'X'));
    if hex {
        prefix.extend_from_slice(if spec.conv == b'X' { b"0X" } else { b"0x" });
    }
    prefix
}

/// Pads prefix + digits to the width: spaces on the right with `-`, zeros after the prefix
/// with `0` and no precision, otherwise spaces on the left.
fn assemble(spec: &Spec, prefix: &[u8], digits: &[u8]) -> Vec<u8> {
    let fill = spec.width.saturating_sub(prefix.len() + digits.len());
    if spec.left {
        [prefix, digits, &vec![b' '; fill]].concat()
    } else if spec.zero && spec.precision.is_none() {
        [prefix, &vec![b'0'; fill], digits].concat()
    } else {
        [&vec![b' '; fill], prefix, digits].concat()
    }
}
