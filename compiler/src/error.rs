//! The two kinds of failure: user errors (diagnostics about the program) and compiler
//! bugs (an internal invariant broke). They are different types so a bug can never be
//! shown as if the user caused it.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use ebpfc_parser::span::Span;

/// One or more diagnostics about the user's program, ready to render.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic<()>>);

/// An internal invariant of the compiler broke: never the user's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bug(pub String);

/// Why compilation stopped.
#[derive(Debug, Clone)]
pub enum CompileError {
    User(Diagnostics),
    Bug(Bug),
}

impl From<Diagnostics> for CompileError {
    fn from(d: Diagnostics) -> Self {
        CompileError::User(d)
    }
}

impl From<Bug> for CompileError {
    fn from(b: Bug) -> Self {
        CompileError::Bug(b)
    }
}

impl std::fmt::Display for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal compiler error: {}", self.0)
    }
}

/// An error diagnostic with one primary label.
pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic<()> {
    Diagnostic::error()
        .with_message(message.into())
        .with_labels(vec![
            Label::primary((), span.range()).with_message(label.into())
        ])
}

/// A warning diagnostic with one primary label: reported, but compilation goes on.
pub fn warning(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic<()> {
    Diagnostic::warning()
        .with_message(message.into())
        .with_labels(vec![
            Label::primary((), span.range()).with_message(label.into())
        ])
}

impl Diagnostics {
    /// Whether any diagnostic is an error (not just warnings).
    pub fn has_errors(&self) -> bool {
        use codespan_reporting::diagnostic::Severity;
        self.0.iter().any(|d| d.severity >= Severity::Error)
    }

    pub fn push(&mut self, d: Diagnostic<()>) {
        self.0.push(d);
    }

    /// Whether an error was already reported inside `span`: a new error over the
    /// whole expression would only repeat it (an unknown function's value is unusable).
    pub fn has_error_within(&self, span: Span) -> bool {
        use codespan_reporting::diagnostic::Severity;
        let outer = span.range();
        self.0
            .iter()
            .filter(|d| d.severity >= Severity::Error)
            .any(|d| {
                d.labels
                    .iter()
                    .any(|l| outer.start <= l.range.start && l.range.end <= outer.end)
            })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
