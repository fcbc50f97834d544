//! The ebpfc front end: source text to [`ast::Program`], or parse diagnostics.
//!
//! The pipeline is [`lexer`] (logos tokens, plus hand-scanned probe headers, `#` lines
//! and C definitions) → [`classify`] (casts) → the lalrpop grammar (`grammar.lalrpop`)
//! building the AST through [`actions`]. Errors are collected, not stopped at the
//! first: the lexer reports and continues, and the grammar recovers at statement and
//! item level. Input can never make the parser panic or recurse without bound.

pub mod ast;
pub mod cconst;
pub mod span;

mod actions;
mod classify;
mod defines;
mod depth;
mod diagnostics;
mod dump;
mod header;
mod lexer;
mod literal;
mod mistakes;
mod order;
mod precedence;
mod token;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, unused_imports)]
    grammar
);

#[cfg(test)]
mod tests;

use std::convert::Infallible;

use codespan_reporting::diagnostic::Diagnostic;

type ParseError<'a> = lalrpop_util::ParseError<usize, token::Tok<'a>, Infallible>;

pub use depth::MAX_DEPTH;
pub use diagnostics::render;
pub use dump::{dump, type_text};
pub use lexer::{MAX_NESTING, MAX_STATEMENT_TOKENS};

/// What the preprocessor reads besides the script: bpftrace's `-I DIR` and
/// `--include FILE`.
#[derive(Debug, Clone, Default)]
pub struct Preprocess {
    /// Directories searched for included files, in order.
    pub include_dirs: Vec<std::path::PathBuf>,
    /// Files whose macros are defined before the script's first line.
    pub includes: Vec<std::path::PathBuf>,
}

/// Parses a whole script. On failure, returns every problem found, in source order;
/// render them with [`render`] (file id `()`, e.g. a `SimpleFile`).
pub fn parse(source: &str) -> Result<ast::Program, Vec<Diagnostic<()>>> {
    parse_with(source, &Preprocess::default())
}

/// [`parse`] with include directories and forced includes.
pub fn parse_with(source: &str, options: &Preprocess) -> Result<ast::Program, Vec<Diagnostic<()>>> {
    if u32::try_from(source.len()).is_err() {
        return Err(vec![
            Diagnostic::error().with_message("the script is larger than 4 GiB")
        ]);
    }
    let mut lexer = lexer::Lexer::new(source, options);
    let mut issues = Vec::new();
    let result = grammar::ProgramParser::new().parse(&mut issues, &mut lexer);
    let lexed = lexer.finish();
    if lexed.fatal {
        return Err(lexed.diags);
    }
    let (items, mut diags) = collect(source, result, issues, lexed);
    if diags.is_empty() {
        let program = ast::Program {
            items,
            span: span::Span::new(0, source.len()),
        };
        let misplaced = order::check(&program);
        if !misplaced.is_empty() {
            return Err(misplaced);
        }
        return match depth::check(&program) {
            None => Ok(program),
            Some(diag) => Err(vec![diag]),
        };
    }
    diags.sort_by_key(|d| d.labels.first().map_or(0, |l| l.range.start));
    Err(diags)
}

/// The items parsed and every diagnostic: the lexer's, the syntax errors that are
/// not consequences of a lexical error, and those of the checks made while parsing.
fn collect<'a>(
    src: &'a str,
    result: Result<Vec<ast::Item>, ParseError<'a>>,
    issues: Vec<actions::Issue<'a>>,
    lexed: lexer::Finished,
) -> (Vec<ast::Item>, Vec<Diagnostic<()>>) {
    let ctx = diagnostics::Context {
        src,
        brackets: &lexed.brackets,
    };
    let lexer_failed = !lexed.diags.is_empty();
    let mut diags = lexed.diags;
    let mut report = |err: ParseError<'_>| {
        if !consequence(&err, lexer_failed, &lexed.skipped, src) {
            diags.push(ctx.parse_error(err));
        }
    };
    let (mut checks, mut bare) = (Vec::new(), Vec::new());
    for issue in issues {
        match issue {
            actions::Issue::Recovered(rec) => report(rec.error),
            actions::Issue::Diag(diag) => checks.push(diag),
            actions::Issue::BareAggregation(name, span) => bare.push((name, span)),
        }
    }
    let items = result.unwrap_or_else(|err| {
        report(err);
        Vec::new()
    });
    diags.extend(checks);
    diags.extend(mistakes::bare_aggregations(bare, &items));
    (items, diags)
}

/// Whether a syntax error only follows from a lexical one: the end of input after a
/// lexical error (an unterminated string or comment swallowing the rest), or a token
/// right after a skipped character or line.
fn consequence(err: &ParseError<'_>, lexer_failed: bool, skipped: &[usize], src: &str) -> bool {
    use lalrpop_util::ParseError::{UnrecognizedEof, UnrecognizedToken};
    let at = match err {
        UnrecognizedEof { .. } => return lexer_failed,
        UnrecognizedToken { token, .. } => token.0,
        _ => return false,
    };
    let before = src[..at].trim_end().len();
    skipped.contains(&before)
}
