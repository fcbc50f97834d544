//! Notes for common mistakes, added to a syntax error from what was found, what was
//! expected and the text of the statement so far: C's `for (;;)`, `elif`, `=` for `==`,
//! an untyped function parameter, a variable without `$`, a missing `;`, a stray `}`.
//! Also the check for an aggregation assigned without its parentheses (`@c = count`).

use codespan_reporting::diagnostic::Diagnostic;

use crate::ast::{Item, Span};
use crate::diagnostics::error;

/// Aggregation functions: `@m = count` (no parentheses) is a mistake for `count()`.
pub(crate) const AGGREGATIONS: &[&str] = &[
    "count", "sum", "avg", "min", "max", "stats", "hist", "lhist",
];

/// What a syntax error found, what the grammar expected, and the statement so far.
pub(crate) struct Clue<'a> {
    /// The token found, as [`crate::token::Tok::describe`] gives it, or `end of file`.
    pub found: &'a str,
    /// The grammar's names of the tokens that would have been accepted.
    pub expected: &'a [String],
    /// The source from the start of the current statement up to the error.
    pub prefix: &'a str,
}

impl Clue<'_> {
    fn expects(&self, name: &str) -> bool {
        self.expected.iter().any(|e| e.trim_matches('"') == name)
    }

    fn starts_with_word(&self, words: &[&str]) -> bool {
        words.iter().any(|w| {
            self.prefix.strip_prefix(w).is_some_and(|rest| {
                !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        })
    }
}

/// The note for the mistake that most likely caused this error, if one is known.
pub(crate) fn note(clue: &Clue<'_>) -> Option<&'static str> {
    let found = clue.found;
    let note = if clue.starts_with_word(&["for"]) && (found == "'='" || clue.expects(";")) {
        "a for loop reads 'for ($i : 0..10) { }' or 'for ($kv : @map) { }', not C's for (;;)"
    } else if clue.starts_with_word(&["elif", "elsif", "elseif"]) {
        "write 'else if'"
    } else if clue.starts_with_word(&["fn"]) && clue.expects(":") {
        "parameters and results have types: fn add($a: int64, $b: int64): int64 { ... }"
    } else if found == "'='" && ["==", ")", "]", "/end"].iter().any(|t| clue.expects(t)) {
        "use '==' to compare; '=' assigns and is only allowed as a statement"
    } else if found == "'{'" && clue.expects("/end") {
        "a predicate is written between two slashes: /pid == 42/"
    } else if found == "'}'" && clue.expects("attach point") {
        "this '}' has no matching '{'"
    } else if found == "'else'" {
        "'else' must directly follow the '}' of an if block"
    } else if found.starts_with("identifier") && clue.expects("$variable") {
        "scratch variables start with '$', e.g. $x"
    } else if found.starts_with("identifier") && clue.expects("(") && clue.expects("{") {
        "a probe body is a block: kprobe:vfs_read { ... }"
    } else if clue.expects(";") && clue.expects("}") && starts_statement(found) {
        "statements end with ';'"
    } else {
        return None;
    };
    Some(note)
}

/// Whether a token found (as described) usually begins a statement.
fn starts_statement(found: &str) -> bool {
    found.starts_with("'$") || found.starts_with("'@") || found.starts_with("identifier")
}

/// Reports `@m = count` for each bare aggregation name found while parsing, unless
/// the program defines a macro of that name (macros may be used without parentheses).
pub(crate) fn bare_aggregations(found: Vec<(String, Span)>, items: &[Item]) -> Vec<Diagnostic<()>> {
    let is_macro = |name: &str| {
        items
            .iter()
            .any(|i| matches!(i, Item::Macro(m) if m.name.node == name))
    };
    found
        .into_iter()
        .filter(|(name, _)| !is_macro(name))
        .map(|(name, span)| {
            let args = if name == "count" { "" } else { "..." };
            error(
                format!("'{name}' is a function and needs parentheses"),
                span.range(),
                format!("write '{name}({args})'"),
            )
            .with_notes(vec![
                "aggregations are calls: @c = count(); @s = sum($x); @h = hist($x)".to_string(),
            ])
        })
        .collect()
}
