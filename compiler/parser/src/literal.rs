//! Decoding of integer and string literals.
//!
//! Integers: decimal, `0x` hex, `0o`/leading-zero octal, `0b` binary, `_` separators,
//! a decimal exponent (`1e6`), C suffixes (`u`, `ul`, `ull`, ...) and duration suffixes
//! (`ns us ms s m h d`) that scale the value to nanoseconds. Strings: the escapes
//! `\n \t \r \a \b \f \v \e \" \' \\`, octal `\0nn` and hex `\xnn`. Every malformed
//! literal yields a diagnostic on its exact span; decoding never panics.

use codespan_reporting::diagnostic::Diagnostic;

use crate::diagnostics::error;
use crate::token::IntLit;

const C_SUFFIXES: &[&str] = &["u", "l", "ul", "lu", "ll", "ull", "llu"];
const DURATIONS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];
const SUFFIX_NOTE: &str =
    "integer suffixes are u, l, ul, ll, ull and the durations ns, us, ms, s, m, h, d";

/// Decodes one integer token `text` that starts at byte `start` of the source.
pub(crate) fn decode_int(text: &str, start: usize) -> Result<IntLit<'_>, Diagnostic<()>> {
    let span = start..start + text.len();
    let (radix, prefix) = radix_of(text);
    let body_len = text[prefix..]
        .bytes()
        .take_while(|b| *b == b'_' || (*b as char).is_digit(radix.max(10)))
        .count();
    let body = &text[prefix..prefix + body_len];
    if body.trim_matches('_').is_empty() {
        return Err(error(
            format!("invalid {} literal '{text}'", radix_name(radix)),
            span,
            "no digits here",
        )
        .with_notes(vec![digits_note(radix)]));
    }
    let radix = if radix == 10 && body.len() > 1 && body.starts_with('0') {
        8
    } else {
        radix
    };
    let mut value = parse_digits(body, radix, text, span.clone())?;
    let mut end = prefix + body_len;
    if radix == 10 {
        let (exp_len, scaled) = exponent(&text[end..], value, text, span.clone())?;
        end += exp_len;
        value = scaled;
    }
    let suffix = &text[end..];
    if suffix.is_empty() {
        return Ok(IntLit {
            value,
            suffix: None,
        });
    }
    let value = apply_suffix(value, suffix, radix, text, span)?;
    Ok(IntLit {
        value,
        suffix: Some(suffix),
    })
}

fn radix_of(text: &str) -> (u32, usize) {
    match text.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, 2),
        [b'0', b'o' | b'O', ..] => (8, 2),
        [b'0', b'b' | b'B', ..] => (2, 2),
        _ => (10, 0),
    }
}

fn radix_name(radix: u32) -> &'static str {
    match radix {
        16 => "hexadecimal",
        8 => "octal",
        2 => "binary",
        _ => "integer",
    }
}

fn digits_note(radix: u32) -> String {
    match radix {
        16 => "hexadecimal digits are 0-9 and a-f, e.g. 0x1f".to_string(),
        8 => "octal digits are 0-7, e.g. 0o755 or 0755".to_string(),
        2 => "binary digits are 0 and 1, e.g. 0b101".to_string(),
        _ => "decimal digits are 0-9".to_string(),
    }
}

fn parse_digits(
    body: &str,
    radix: u32,
    text: &str,
    span: std::ops::Range<usize>,
) -> Result<u64, Diagnostic<()>> {
    let mut digits = body.chars().filter(|c| *c != '_');
    if let Some(bad) = digits.clone().find(|c| !c.is_digit(radix)) {
        return Err(error(
            format!(
                "invalid digit '{bad}' in {} literal '{text}'",
                radix_name(radix)
            ),
            span,
            "invalid digit",
        )
        .with_notes(vec![digits_note(radix)]));
    }
    digits
        .try_fold(0u64, |acc, c| {
            let digit = u64::from(c.to_digit(radix)?);
            acc.checked_mul(u64::from(radix))?.checked_add(digit)
        })
        .ok_or_else(|| too_large(text, span))
}

fn too_large(text: &str, span: std::ops::Range<usize>) -> Diagnostic<()> {
    error(
        format!("integer literal '{text}' is too large"),
        span,
        "does not fit in 64 bits",
    )
    .with_notes(vec![
        "the largest integer is 18446744073709551615".to_string()
    ])
}

/// Parses an `e<digits>` exponent at the start of `rest`; returns its length and the
/// scaled value.
fn exponent(
    rest: &str,
    value: u64,
    text: &str,
    span: std::ops::Range<usize>,
) -> Result<(usize, u64), Diagnostic<()>> {
    let bytes = rest.as_bytes();
    if !(bytes.len() >= 2 && matches!(bytes[0], b'e' | b'E') && bytes[1].is_ascii_digit()) {
        return Ok((0, value));
    }
    let len = 1 + rest[1..]
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'_')
        .count();
    let digits: String = rest[1..len].chars().filter(|c| *c != '_').collect();
    let scaled = digits
        .parse::<u32>()
        .ok()
        .and_then(|e| 10u64.checked_pow(e))
        .and_then(|p| value.checked_mul(p))
        .ok_or_else(|| too_large(text, span))?;
    Ok((len, scaled))
}

fn apply_suffix(
    value: u64,
    suffix: &str,
    radix: u32,
    text: &str,
    span: std::ops::Range<usize>,
) -> Result<u64, Diagnostic<()>> {
    if C_SUFFIXES.contains(&suffix.to_ascii_lowercase().as_str()) {
        return Ok(value);
    }
    let scale = DURATIONS
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|(_, m)| *m);
    match scale {
        Some(scale) if radix == 10 => value
            .checked_mul(scale)
            .ok_or_else(|| too_large(text, span)),
        _ => {
            let note = if scale.is_some() {
                "duration suffixes (ns, us, ms, s, m, h, d) follow decimal integers only"
                    .to_string()
            } else if radix == 16 {
                digits_note(16)
            } else {
                SUFFIX_NOTE.to_string()
            };
            Err(error(
                format!("invalid suffix '{suffix}' on integer literal '{text}'"),
                span,
                "invalid suffix",
            )
            .with_notes(vec![note]))
        }
    }
}

/// Decodes the `content` of a string literal (between the quotes), which starts at byte
/// `start` of the source. Bad escapes are reported and skipped.
pub(crate) fn decode_str(content: &str, start: usize, diags: &mut Vec<Diagnostic<()>>) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        let at = start + (content.len() - rest.len()) + pos;
        let (len, decoded) = escape(&rest[pos + 1..]);
        match decoded {
            Ok(c) => out.push(c),
            Err(message) => diags.push(escape_error(message, at..at + 1 + len)),
        }
        rest = &rest[pos + 1 + len..];
    }
    out.push_str(rest);
    out
}

fn escape_error(message: String, span: std::ops::Range<usize>) -> Diagnostic<()> {
    error(message, span, "in this escape sequence").with_notes(vec![
        "supported escapes: \\n \\t \\r \\\" \\\\ \\0nn (octal) \\xnn (hex)".to_string(),
    ])
}

/// Decodes the escape after a `\`: returns the bytes consumed and the character.
fn escape(after: &str) -> (usize, Result<char, String>) {
    // Only an unterminated string can end in a lone `\`; that is reported already.
    let Some(first) = after.chars().next() else {
        return (0, Ok('\\'));
    };
    let simple = match first {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'v' => Some('\x0b'),
        'e' => Some('\x1b'),
        '"' | '\'' | '\\' => Some(first),
        _ => None,
    };
    if let Some(c) = simple {
        return (1, Ok(c));
    }
    match first {
        '0'..='7' => numeric(after, 0, 3, 8),
        'x' => numeric(after, 1, 2, 16),
        _ => (
            first.len_utf8(),
            Err(format!("unknown escape sequence '\\{first}'")),
        ),
    }
}

/// Decodes up to `max` digits of `radix` after `skip` leading bytes.
fn numeric(after: &str, skip: usize, max: usize, radix: u32) -> (usize, Result<char, String>) {
    let digits: &str = {
        let n = after[skip..]
            .bytes()
            .take(max)
            .take_while(|b| (*b as char).is_digit(radix));
        &after[skip..skip + n.count()]
    };
    let len = skip + digits.len();
    if digits.is_empty() {
        return (
            len,
            Err("'\\x' must be followed by hexadecimal digits".to_string()),
        );
    }
    match u32::from_str_radix(digits, radix) {
        Ok(v) if v <= 0x7f => (len, Ok(char::from(v as u8))),
        Ok(v) if v <= 0xff => (len, Ok(ebpfc_stdlib::bytes::raw_byte_char(v as u8))),
        _ => (
            len,
            Err(format!(
                "escape '\\{}' is above 0xff: an escape is one byte",
                &after[..len]
            )),
        ),
    }
}
