//! Parse diagnostics: turning the parser's errors into codespan-reporting diagnostics
//! that say in words what was expected, with notes for common mistakes, and rendering
//! diagnostics to text.

use std::convert::Infallible;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::NoColor};
use lalrpop_util::ParseError;

use crate::mistakes::{self, Clue};
use crate::token::Tok;

/// An error diagnostic with one primary label.
pub(crate) fn error(
    message: impl ToString,
    span: Range<usize>,
    label: impl ToString,
) -> Diagnostic<()> {
    Diagnostic::error()
        .with_message(message)
        .with_labels(vec![Label::primary((), span).with_message(label)])
}

/// Renders diagnostics as plain text (no colour), as a terminal would show them.
pub fn render(source_name: &str, source: &str, diags: &[Diagnostic<()>]) -> String {
    let file = SimpleFile::new(source_name, source);
    let config = term::Config::default();
    let mut out = NoColor::new(Vec::new());
    for diag in diags {
        if term::emit(&mut out, &config, &file, diag).is_err() {
            return format!("error: cannot render a diagnostic: {}\n", diag.message);
        }
    }
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// What the diagnostics need to know about the source besides the error itself.
pub(crate) struct Context<'s> {
    pub src: &'s str,
    /// Every bracket token in order: its offset and character.
    pub brackets: &'s [(usize, u8)],
}

type Error<'a> = ParseError<usize, Tok<'a>, Infallible>;

impl Context<'_> {
    /// Describes a parse error.
    pub fn parse_error(&self, err: Error<'_>) -> Diagnostic<()> {
        match err {
            ParseError::UnrecognizedToken {
                token: (l, tok, r),
                expected,
            } => self.unexpected(l..r, &tok.describe(), &expected),
            ParseError::UnrecognizedEof { location, expected } => {
                self.unexpected(location..location, "end of file", &expected)
            }
            ParseError::ExtraToken { token: (l, tok, r) } => error(
                format!("unexpected {}", tok.describe()),
                l..r,
                "unexpected here",
            ),
            ParseError::InvalidToken { location } => {
                error("invalid token", location..location, "here")
            }
            ParseError::User { error } => match error {},
        }
    }

    fn unexpected(&self, span: Range<usize>, found: &str, expected: &[String]) -> Diagnostic<()> {
        let want = expected_phrase(expected);
        let message = format!("expected {want}, found {found}");
        let mut labels = Vec::new();
        let mut notes = Vec::new();
        let prev_end = self.previous_end(span.start);
        // After a block (`}`) no ';' is needed, so a missing ';' is not the problem.
        let after_block = self.src[..prev_end].ends_with(['}', '{', ';']);
        let new_line = self.src[prev_end..span.start].contains('\n') && !after_block;
        if has(expected, ";") && has(expected, "}") && new_line {
            labels.push(Label::primary((), prev_end..prev_end).with_message("expected ';' here"));
            labels.push(
                Label::secondary((), span.clone()).with_message("the next statement starts here"),
            );
            notes.push("statements end with ';'".to_string());
        } else {
            labels.push(Label::primary((), span.clone()).with_message(format!("expected {want}")));
        }
        let at_eof = found == "end of file";
        // An early ',' leaves an argument out; it does not leave a bracket open.
        let closes = found != "','";
        for close in [")", "]", "}"].into_iter().filter(|_| closes) {
            if has(expected, close) && (close != "}" || at_eof) {
                if let Some(at) = self.unclosed(span.start, close) {
                    labels.push(
                        Label::secondary((), at..at + 1)
                            .with_message("unclosed bracket opened here"),
                    );
                    break;
                }
            }
        }
        let clue = Clue {
            found,
            expected,
            prefix: self.statement_prefix(span.start),
        };
        notes.extend(mistakes::note(&clue).map(str::to_string));
        notes.dedup();
        Diagnostic::error()
            .with_message(message)
            .with_labels(labels)
            .with_notes(notes)
    }

    /// The text of the statement being parsed at `at`: from just after the last `;`,
    /// `{` or `}` before it, without leading blanks.
    fn statement_prefix(&self, at: usize) -> &str {
        let before = &self.src[..at.min(self.src.len())];
        let start = before.rfind([';', '{', '}']).map_or(0, |i| i + 1);
        before[start..].trim_start()
    }

    /// The end of the last non-blank, non-comment text before `at`.
    fn previous_end(&self, at: usize) -> usize {
        let before = &self.src[..at.min(self.src.len())];
        let end = before.trim_end().len();
        let line_start = before[..end].rfind('\n').map_or(0, |n| n + 1);
        let line = &before[line_start..end];
        match line.find("//") {
            Some(c) if line[..c].matches('"').count().is_multiple_of(2) => {
                before[..line_start + c].trim_end().len()
            }
            _ => end,
        }
    }

    /// The offset of the innermost bracket still open at `at` that `close` would close.
    fn unclosed(&self, at: usize, close: &str) -> Option<usize> {
        let want = match close {
            ")" => b'(',
            "]" => b'[',
            _ => b'{',
        };
        let mut open: Vec<(usize, u8)> = Vec::new();
        for &(pos, c) in self.brackets.iter().take_while(|(pos, _)| *pos < at) {
            match c {
                b'(' | b'[' | b'{' => open.push((pos, c)),
                b'}' => {
                    if let Some(i) = open.iter().rposition(|(_, c)| *c == b'{') {
                        open.truncate(i);
                    }
                }
                _ => {
                    let opener = if c == b')' { b'(' } else { b'[' };
                    if open.last().is_some_and(|(_, c)| *c == opener) {
                        open.pop();
                    }
                }
            }
        }
        open.last().filter(|(_, c)| *c == want).map(|(pos, _)| *pos)
    }
}

fn has(expected: &[String], name: &str) -> bool {
    expected.iter().any(|e| e.trim_matches('"') == name)
}

/// The expected tokens, in words.
fn expected_phrase(expected: &[String]) -> String {
    let has = |n| has(expected, n);
    let expr = has("integer") && has("$variable");
    let phrase = if expr && has("let") {
        "a statement or '}'"
    } else if has(";") && has("}") {
        "';' or '}' after the statement"
    } else if has("/end") {
        "an operator or '/' to end the predicate"
    } else if expr && has(")") {
        "an expression or ')'"
    } else if expr && has("]") {
        "an expression or ']'"
    } else if has(")") && has(",") {
        "',' or ')'"
    } else if has(")") {
        "')'"
    } else if has("]") && has(",") {
        "',' or ']'"
    } else if has("]") {
        "']'"
    } else if has("attach point") {
        "a probe or another top-level item"
    } else if has("identifier") && has("struct") && has("if") {
        if has("integer") {
            "a field name or a tuple index"
        } else {
            "a field name"
        }
    } else if expr {
        "an expression"
    } else if has("/") && has("{") {
        "a predicate '/.../' or '{' to start the probe body"
    } else {
        return list_phrase(expected);
    };
    phrase.to_string()
}

fn list_phrase(expected: &[String]) -> String {
    let names: Vec<String> = expected
        .iter()
        .map(|e| token_name(e.trim_matches('"')))
        .collect();
    match names.as_slice() {
        [] => "nothing more".to_string(),
        [one] => one.clone(),
        [first @ .., last] if first.len() < 6 => format!("{} or {last}", first.join(", ")),
        _ => format!("one of {}, ...", names[..6].join(", ")),
    }
}

/// A terminal of the grammar, in words.
fn token_name(name: &str) -> String {
    match name {
        "identifier" => "an identifier".to_string(),
        "$variable" => "a variable".to_string(),
        "@map" => "a map".to_string(),
        "$N" => "a positional parameter".to_string(),
        "integer" => "an integer".to_string(),
        "string" => "a string".to_string(),
        "attach point" => "a probe".to_string(),
        "preprocessor line" => "a preprocessor line".to_string(),
        "C definition" => "a C definition".to_string(),
        "(type" => "'('".to_string(),
        "@m[" => "'['".to_string(),
        "/end" => "'/'".to_string(),
        "op=" => "a compound assignment".to_string(),
        other => format!("'{other}'"),
    }
}
