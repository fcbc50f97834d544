//! Hand-written scanners for the top-level text that is not made of ordinary tokens:
//! whitespace/comments, `#` preprocessor lines, verbatim C definitions, and probe attach
//! points (`uprobe:/bin/bash:readline+0x10`, `tracepoint:syscalls:sys_enter_*`).
//!
//! Every scanner takes the remaining source text and returns byte lengths that end on
//! ASCII characters, so slicing and bumping the lexer at them is always valid.

use codespan_reporting::diagnostic::Diagnostic;

use crate::ast::{AttachPoint, Span};
use crate::diagnostics::error;

/// Length of the leading whitespace and comments of `s`, and the offset of an
/// unterminated `/*` comment if one was found.
pub(crate) fn trivia_len(s: &str) -> (usize, Option<usize>) {
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if s[i..].starts_with("//") {
            i += s[i..].find('\n').unwrap_or(s.len() - i);
        } else if s[i..].starts_with("/*") {
            match s[i + 2..].find("*/") {
                Some(end) => i += 2 + end + 2,
                None => return (s.len(), Some(i)),
            }
        } else {
            return (i, None);
        }
    }
}

/// Length of a preprocessor line, following `\` line continuations (newline excluded).
pub(crate) fn line_len(s: &str) -> usize {
    let mut i = 0;
    while let Some(nl) = s[i..].find('\n') {
        let line = s[i..i + nl].trim_end_matches('\r');
        if !line.ends_with('\\') {
            return i + nl;
        }
        i += nl + 1;
    }
    s.len()
}

/// Length of a C `struct`/`union`/`enum` definition up to its closing `}` and an
/// optional `;` (or up to `;` for a declaration without a body). `Err` holds the
/// length scanned when the definition never ends.
pub(crate) fn c_definition_len(s: &str) -> Result<usize, usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let (skip, _) = trivia_len(&s[i..]);
        if skip > 0 {
            i += skip;
            continue;
        }
        match bytes[i] {
            b';' if depth == 0 => return Ok(i + 1),
            b'{' => depth += 1,
            b'}' if depth <= 1 => return Ok(after_optional_semi(s, i + 1)),
            b'}' => depth -= 1,
            _ => {}
        }
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    Err(s.len())
}

fn after_optional_semi(s: &str, end: usize) -> usize {
    let rest = &s[end..];
    let ws = rest.len() - rest.trim_start().len();
    if rest[ws..].starts_with(';') {
        end + ws + 1
    } else {
        end
    }
}

/// Length of one attach point at the start of `s`. A part that begins with `/` or `.`
/// is a path and may contain `/`; elsewhere `/` ends the attach point (a predicate
/// follows). Double-quoted parts may contain anything but a newline.
pub(crate) fn attach_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let (mut i, mut part_start, mut path) = (0, true, false);
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            match s[i + 1..].find(['"', '\n']) {
                Some(n) if bytes[i + 1 + n] == b'"' => i += n + 2,
                Some(n) => return i + 1 + n,
                None => return s.len(),
            }
            part_start = false;
            continue;
        }
        if part_start {
            path = c == b'/' || c == b'.';
            part_start = false;
        }
        match c {
            b':' => part_start = true,
            b'/' if !path => break,
            b',' | b'{' | b'}' | b';' | b'(' | b')' => break,
            _ if c.is_ascii_whitespace() => break,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Splits an attach point written at byte `start` into provider and parts. A leading
/// `name=` (a probe name, reserved by bpftrace) is kept in `raw` only.
pub(crate) fn split_attach(raw: &str, start: usize) -> (AttachPoint, Option<Diagnostic<()>>) {
    let span = Span::new(start, start + raw.len());
    let unnamed = probe_name_len(raw).map_or(raw, |n| &raw[n + 1..]);
    let mut pieces = split_colons(unnamed).into_iter();
    let provider = pieces.next().unwrap_or_default();
    let mut parts: Vec<String> = pieces.collect();
    if optional_count(&provider, &parts) {
        parts.pop();
    }
    let diag = attach_problem(raw, &provider, &parts, span);
    let point = AttachPoint {
        provider,
        parts,
        raw: raw.to_string(),
        span,
    };
    (point, diag)
}

/// Whether `parts` end with the empty count that `software:event:` and
/// `hardware:event:` may be written with (the default count is then used).
fn optional_count(provider: &str, parts: &[String]) -> bool {
    matches!(provider, "software" | "s" | "hardware" | "h")
        && parts.len() == 2
        && parts[1].is_empty()
        && !parts[0].is_empty()
}

/// The length of the `name` in `name=provider:...`, if there is one.
fn probe_name_len(raw: &str) -> Option<usize> {
    let eq = raw.find('=')?;
    let name = &raw[..eq];
    let word = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    word.then_some(eq)
}

/// Splits on `:` outside double quotes; quotes are removed from the pieces.
fn split_colons(raw: &str) -> Vec<String> {
    if !raw.contains('"') {
        return raw.split(':').map(str::to_string).collect();
    }
    let mut pieces = vec![String::new()];
    let mut quoted = false;
    for c in raw.chars() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => pieces.push(String::new()),
            _ => pieces.last_mut().expect("pieces is never empty").push(c),
        }
    }
    pieces
}

const ATTACH_NOTE: &str =
    "attach points look like 'BEGIN', 'kprobe:vfs_read' or 'tracepoint:syscalls:sys_enter_openat'";

fn attach_problem(
    raw: &str,
    provider: &str,
    parts: &[String],
    span: Span,
) -> Option<Diagnostic<()>> {
    let (message, label) = if raw.is_empty() {
        (
            "expected a probe".to_string(),
            "expected an attach point here",
        )
    } else if !raw.matches('"').count().is_multiple_of(2) {
        (
            format!("unterminated quote in attach point '{raw}'"),
            "missing closing '\"'",
        )
    } else if provider.is_empty() {
        (
            format!("attach point '{raw}' has no probe type"),
            "expected a probe type before ':'",
        )
    } else if parts.iter().any(String::is_empty) {
        (
            format!("incomplete attach point '{raw}'"),
            "expected a name after ':'",
        )
    } else {
        return None;
    };
    Some(error(message, span.range(), label).with_notes(vec![ATTACH_NOTE.to_string()]))
}
