//! The order of top-level items: `#` lines and C definitions (`struct`, `union`,
//! `enum`) belong to the C prelude, which ends at the first probe.

use codespan_reporting::diagnostic::{Diagnostic, Label};

use crate::ast::{Item, Program};
use crate::diagnostics::error;

/// Reports every `#` line or C definition written after a probe.
pub(crate) fn check(program: &Program) -> Vec<Diagnostic<()>> {
    let Some(first) = program.items.iter().find_map(|item| match item {
        Item::Probe(p) => Some(p.attach.first().map_or(p.span, |a| a.span)),
        _ => None,
    }) else {
        return Vec::new();
    };
    program
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Preprocessor(line) if line.span.start > first.start => {
                Some(("a preprocessor line", line.span))
            }
            Item::CDefinition(def) if def.span.start > first.start => {
                Some(("a C definition", def.span))
            }
            _ => None,
        })
        .map(|(what, span)| {
            error(
                format!("{what} must come before the first probe"),
                span.range(),
                "after a probe",
            )
            .with_labels(vec![
                Label::secondary((), first.range()).with_message("the first probe")
            ])
            .with_notes(vec![
                "'#' lines and struct, union and enum definitions go at the top of the script"
                    .to_string(),
            ])
        })
        .collect()
}
