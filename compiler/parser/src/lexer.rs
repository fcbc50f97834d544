//! The lexer: source text to a stream of `(start, Tok, end)` triples plus diagnostics.
//!
//! Ordinary tokens come from the logos-derived [`Tok`]. At the start of each top-level
//! item (start of file, or after a `}` or `;` that closes everything) the lexer looks at
//! the raw text itself: `#` lines become [`Tok::Preproc`], C `struct`/`union`/`enum`
//! definitions become [`Tok::CDef`], and anything that is not a keyword item (`config`,
//! `macro`, `fn`, `let`) is a probe header scanned into [`Tok::Attach`] tokens.
//!
//! Identifiers named by a `#define` line above are replaced by the macro's tokens
//! ([`crate::defines`]).
//!
//! It also tracks bracket nesting, which gives three contextual tokens: the `/` right
//! before a probe body's `{` is [`Tok::EndPred`], a `[` right after a map is
//! [`Tok::MapOpen`], and (in [`crate::classify`]) a `(` that opens a type is
//! [`Tok::CastOpen`]. Nesting deeper than [`MAX_NESTING`] or statements longer than
//! [`MAX_STATEMENT_TOKENS`] stop lexing with a diagnostic, so later recursive passes
//! over the AST have bounded depth.

use std::collections::VecDeque;
use std::convert::Infallible;

use codespan_reporting::diagnostic::Diagnostic;
use logos::{Logos, Skip};

use crate::classify::{self, Prev};
use crate::defines::Defines;
use crate::diagnostics::error;
use crate::header::{attach_len, c_definition_len, line_len, split_attach, trivia_len};
use crate::literal::{decode_int, decode_str};
use crate::token::{IntLit, Tok};

/// The deepest nesting of `(`, `[` and `{` accepted.
pub const MAX_NESTING: usize = 256;
/// The most tokens accepted between two `;` or `}`. Together with [`MAX_NESTING`] this
/// bounds the depth of any tree the parser builds, even one it then rejects.
pub const MAX_STATEMENT_TOKENS: usize = 4096;

/// A token with its byte range.
pub(crate) type Spanned<'a> = (usize, Tok<'a>, usize);

/// How many tokens are read ahead of the one handed to the parser: enough to see a
/// whole parenthesised type (`(unsigned long long **)`) and the token after it.
const LOOKAHEAD: usize = 16;

/// What is left when lexing is over.
pub(crate) struct Finished {
    /// Every bracket token: its offset and its character (`(`, `)`, `[`, `]`, `{`, `}`).
    pub brackets: Vec<(usize, u8)>,
    /// Where each skipped character or line ends: a syntax error at the next token
    /// is a consequence of the skipped text, not another problem.
    pub skipped: Vec<usize>,
    pub diags: Vec<Diagnostic<()>>,
    /// Lexing stopped early; what was parsed is incomplete and must be discarded.
    pub fatal: bool,
}

/// The token stream of one source text: an iterator of `(start, Tok, end)` for the
/// parser, lexing a few tokens ahead of it.
pub(crate) struct Lexer<'a> {
    inner: logos::Lexer<'a, Tok<'a>>,
    /// Lexed tokens not yet handed to the parser.
    tokens: VecDeque<Spanned<'a>>,
    brackets: Vec<(usize, u8)>,
    skipped: Vec<usize>,
    /// Currently open brackets, innermost last.
    open: Vec<u8>,
    /// At the start of a top-level item.
    item_start: bool,
    /// A probe header was read and its body's `{` has not been seen yet.
    in_header: bool,
    stmt_tokens: usize,
    /// The end of the input was reached.
    done: bool,
    fatal: bool,
    prev: Prev,
    /// The `#define` macros seen so far.
    defines: Defines<'a>,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str, options: &crate::Preprocess) -> Self {
        let mut inner = Tok::lexer(src);
        if src.starts_with('\u{feff}') {
            inner.bump('\u{feff}'.len_utf8());
        }
        let mut defines = Defines::with(options);
        for problem in defines.take_missing() {
            inner
                .extras
                .push(error(problem, 0..0, "included before the program"));
        }
        Lexer {
            inner,
            tokens: VecDeque::with_capacity(2 * LOOKAHEAD),
            brackets: Vec::new(),
            skipped: Vec::new(),
            open: Vec::new(),
            item_start: true,
            in_header: false,
            stmt_tokens: 0,
            done: false,
            fatal: false,
            prev: Prev::default(),
            defines,
        }
    }

    /// Lexes whatever the parser did not consume and returns the leftovers.
    pub(crate) fn finish(mut self) -> Finished {
        while self.next().is_some() {}
        Finished {
            brackets: self.brackets,
            skipped: self.skipped,
            diags: self.inner.extras,
            fatal: self.fatal,
        }
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Result<Spanned<'a>, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && !self.fatal && self.tokens.len() <= LOOKAHEAD {
            self.done = !self.step();
        }
        if self.fatal {
            self.tokens.clear();
            return None;
        }
        classify::front(
            self.tokens.make_contiguous(),
            &mut self.prev,
            &mut self.inner.extras,
        );
        self.tokens.pop_front().map(Ok)
    }
}

impl<'a> Lexer<'a> {
    /// Lexes the next token(s); returns false at the end of the input.
    fn step(&mut self) -> bool {
        if self.item_start && self.open.is_empty() {
            return self.top_level();
        }
        match self.inner.next() {
            None => return false,
            Some(Ok(Tok::Ident(name))) if self.defines.contains(name) => {
                let span = self.inner.span();
                for tok in self.defines.expand(name) {
                    self.push(tok, span.start, span.end);
                }
            }
            Some(Ok(tok)) => {
                let span = self.inner.span();
                if matches!(tok, Tok::Str(_)) && !string_content_len(&self.inner.slice()[1..]).1 {
                    self.skipped.push(span.end);
                }
                self.push(tok, span.start, span.end);
            }
            Some(Err(())) => self.bad_char(),
        }
        true
    }

    /// The byte offset the lexer has reached.
    fn offset(&self) -> usize {
        self.inner.span().end
    }

    /// Skips whitespace and comments by hand, reporting an unterminated `/*`.
    fn skip_trivia(&mut self) {
        let (len, unterminated) = trivia_len(self.inner.remainder());
        if let Some(at) = unterminated {
            let at = self.offset() + at;
            self.inner.extras.push(unterminated_comment(at));
        }
        self.inner.bump(len);
    }

    /// Handles the start of a top-level item; returns false at the end of the input.
    fn top_level(&mut self) -> bool {
        self.in_header = false;
        self.skip_trivia();
        let rest = self.inner.remainder();
        let start = self.offset();
        let word_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        match &rest[..word_len] {
            _ if rest.is_empty() => return false,
            // A shebang: first in the file (after a byte-order mark, if any).
            _ if start <= 3 && self.tokens.is_empty() && rest.starts_with("#!") => {
                self.inner.bump(line_len(rest))
            }
            // A line an `#if` leaves out.
            _ if !rest.starts_with('#') && !self.defines.enabled() => {
                self.inner.bump(line_len(rest).max(1))
            }
            _ if rest.starts_with('#') => {
                let len = line_len(rest);
                self.defines.line(&rest[..len]);
                for problem in self.defines.take_missing() {
                    let span = start..start + rest[..len].trim_end().len();
                    self.inner.extras.push(error(problem, span, "not found"));
                }
                self.emit(Tok::Preproc(rest[..len].trim_end()), start, start + len);
            }
            "struct" | "union" | "enum" => self.c_definition(rest, start, word_len),
            "config" | "macro" | "fn" | "let" => self.item_start = false,
            _ if rest.starts_with([';', '}']) => self.item_start = false,
            _ => self.probe_header(),
        }
        true
    }

    fn c_definition(&mut self, rest: &'a str, start: usize, keyword_len: usize) {
        let len = c_definition_len(rest).unwrap_or_else(|len| {
            self.inner.extras.push(
                error(
                    "unterminated C definition",
                    start..start + keyword_len,
                    "this definition never ends",
                )
                .with_notes(vec!["a definition ends with its closing '}'".to_string()]),
            );
            len
        });
        self.emit(Tok::CDef(&rest[..len]), start, start + len);
    }

    /// Reads `attach[, attach...][,]` up to the predicate or the body.
    fn probe_header(&mut self) {
        loop {
            let rest = self.inner.remainder();
            if self.tokens.back().is_some_and(|t| t.1 == Tok::Comma) && rest.starts_with(['{', '/'])
            {
                break;
            }
            let start = self.offset();
            let len = attach_len(rest);
            let (point, diag) = split_attach(&rest[..len], start);
            self.inner.extras.extend(diag);
            self.emit(Tok::Attach(Box::new(point)), start, start + len);
            let (gap, _) = trivia_len(self.inner.remainder());
            if !self.inner.remainder()[gap..].starts_with(',') {
                break;
            }
            self.inner.bump(gap);
            let comma = self.offset();
            self.emit(Tok::Comma, comma, comma + 1);
            self.skip_trivia();
        }
        self.item_start = false;
        self.in_header = true;
    }

    /// Records a hand-scanned token and moves the logos lexer past it.
    fn emit(&mut self, tok: Tok<'a>, start: usize, end: usize) {
        self.inner.bump(end - self.offset());
        self.tokens.push_back((start, tok, end));
    }

    fn push(&mut self, tok: Tok<'a>, start: usize, end: usize) {
        self.stmt_tokens += 1;
        if self.stmt_tokens > MAX_STATEMENT_TOKENS {
            return self.too_long(start);
        }
        let tok = match tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => self.open_bracket(tok, start),
            Tok::RParen | Tok::RBracket => self.close_bracket(tok, start),
            Tok::RBrace => self.close_brace(start),
            Tok::Semi => {
                self.stmt_tokens = 0;
                self.item_start = self.open.is_empty();
                tok
            }
            _ => tok,
        };
        self.tokens.push_back((start, tok, end));
    }

    fn open_bracket(&mut self, tok: Tok<'a>, start: usize) -> Tok<'a> {
        let (ch, tok) = match tok {
            Tok::LParen => (b'(', tok),
            Tok::LBrace => {
                self.brace_opened();
                (b'{', tok)
            }
            _ if matches!(self.tokens.back(), Some((_, Tok::Map(_), _))) => (b'[', Tok::MapOpen),
            _ => (b'[', tok),
        };
        self.open.push(ch);
        self.brackets.push((start, ch));
        if self.open.len() > MAX_NESTING {
            self.too_deep(start);
        }
        tok
    }

    fn brace_opened(&mut self) {
        if self.in_header && self.open.is_empty() {
            self.in_header = false;
            if let Some((_, last @ Tok::Slash, _)) = self.tokens.back_mut() {
                *last = Tok::EndPred;
            }
        }
    }

    fn close_bracket(&mut self, tok: Tok<'a>, start: usize) -> Tok<'a> {
        let (open, close) = if tok == Tok::RParen {
            (b'(', b')')
        } else {
            (b'[', b']')
        };
        if self.open.last() == Some(&open) {
            self.open.pop();
        }
        self.brackets.push((start, close));
        tok
    }

    /// A `}` closes its `{` and anything left open inside it. The `}` of a top-level
    /// body also ends what its header left open (`macro m($a { }`).
    fn close_brace(&mut self, start: usize) -> Tok<'a> {
        self.stmt_tokens = 0;
        if let Some(at) = self.open.iter().rposition(|c| *c == b'{') {
            self.open.truncate(at);
        }
        if !self.open.contains(&b'{') {
            self.open.clear();
        }
        self.brackets.push((start, b'}'));
        self.item_start = self.open.is_empty();
        Tok::RBrace
    }

    fn too_deep(&mut self, start: usize) {
        self.fatal = true;
        self.inner.extras.push(
            error(
                "the program is nested too deeply",
                start..start + 1,
                "nesting limit reached here",
            )
            .with_notes(vec![format!(
                "at most {MAX_NESTING} levels of (), [] and {{}} may be nested"
            )]),
        );
    }

    fn too_long(&mut self, start: usize) {
        self.fatal = true;
        self.inner.extras.push(
            error(
                "this statement is too long",
                start..start + 1,
                "token limit reached here",
            )
            .with_notes(vec![format!(
                "a statement may have at most {MAX_STATEMENT_TOKENS} tokens; split it up"
            )]),
        );
    }

    fn bad_char(&mut self) {
        let span = self.inner.span();
        if self.inner.slice() == "#" {
            return self.misplaced_preprocessor_line(span.start);
        }
        if self.inner.slice() == "'" && self.single_quoted(span.start) {
            return;
        }
        self.skipped.push(span.end);
        let text = self.inner.slice();
        let note = match text {
            "'" => "character literals are not supported: use a string or an integer",
            "$" => "variables are written '$name', positional parameters '$1'",
            _ => "this character is not part of the language",
        };
        self.inner.extras.push(
            error(
                format!("unexpected character '{text}'"),
                span,
                "unexpected character",
            )
            .with_notes(vec![note.to_string()]),
        );
    }

    /// `'text'` on one line: reported once and read as the string it was meant to be.
    /// Returns false when there is no closing quote.
    fn single_quoted(&mut self, start: usize) -> bool {
        let rest = self.inner.remainder();
        let Some(len) = rest
            .find(['\'', '\n'])
            .filter(|n| rest[*n..].starts_with('\''))
        else {
            return false;
        };
        let text = &rest[..len];
        self.inner.bump(len + 1);
        let end = start + len + 2;
        self.inner.extras.push(
            error(
                "strings are written in double quotes",
                start..end,
                format!("write \"{text}\""),
            )
            .with_notes(vec![
                "there are no character literals: write a character as its code, e.g. 65 for 'A'"
                    .to_string(),
            ]),
        );
        self.push(Tok::Str(text.to_string()), start, end);
        true
    }

    /// A `#` line inside a probe or item: reported once, and skipped as a whole.
    fn misplaced_preprocessor_line(&mut self, start: usize) {
        let len = line_len(self.inner.remainder());
        self.inner.bump(len);
        self.skipped.push(start + 1 + len);
        self.inner.extras.push(
            error(
                "a preprocessor line is not allowed here",
                start..start + 1 + len,
                "inside a probe or top-level item",
            )
            .with_notes(vec![
                "'#' lines (#include, #define) go at the top of the script, before the first probe"
                    .to_string(),
            ]),
        );
    }
}

fn unterminated_comment(at: usize) -> Diagnostic<()> {
    error(
        "unterminated comment",
        at..at + 2,
        "this comment is never closed",
    )
    .with_notes(vec!["close it with '*/'".to_string()])
}

/// Skips a `/* */` comment (logos callback).
pub(crate) fn block_comment<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> Skip {
    match lex.remainder().find("*/") {
        Some(end) => lex.bump(end + 2),
        None => {
            let at = lex.span().start;
            lex.extras.push(unterminated_comment(at));
            lex.bump(lex.remainder().len());
        }
    }
    Skip
}

/// Decodes an integer token (logos callback); errors become diagnostics.
pub(crate) fn int_literal<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> IntLit<'a> {
    decode_int(lex.slice(), lex.span().start).unwrap_or_else(|diag| {
        lex.extras.push(diag);
        IntLit {
            value: 0,
            suffix: None,
        }
    })
}

/// Decodes `$N` (logos callback).
pub(crate) fn positional<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> u32 {
    lex.slice()[1..].parse().unwrap_or_else(|_| {
        let diag = error(
            "positional parameter number is too large",
            lex.span(),
            "not a positional parameter",
        )
        .with_notes(vec![
            "positional parameters are $1, $2, ... up to $4294967295".to_string(),
        ]);
        lex.extras.push(diag);
        0
    })
}

/// The length of a string literal's content in `rest` (the text after its opening
/// quote), and whether a closing quote follows it on the same line.
fn string_content_len(rest: &str) -> (usize, bool) {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n') {
        i += if bytes[i] == b'\\' && bytes.get(i + 1).is_some_and(|b| *b != b'\n') {
            2
        } else {
            1
        };
    }
    (i.min(bytes.len()), bytes.get(i) == Some(&b'"'))
}

/// Reads a string literal after its opening quote (logos callback). A string ends at
/// its closing quote; a newline or the end of input first is an error.
pub(crate) fn string_literal<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> String {
    let rest = lex.remainder();
    let (i, closed) = string_content_len(rest);
    let open = lex.span().start;
    let decoded = decode_str(&rest[..i], open + 1, &mut lex.extras);
    lex.bump(i + usize::from(closed));
    if !closed {
        let end = open + 1 + rest[..i].trim_end_matches('\r').len();
        lex.extras.push(
            error(
                "unterminated string",
                open..end,
                "this string is never closed",
            )
            .with_notes(vec!["a string ends with '\"' on the same line".to_string()]),
        );
    }
    decoded
}
