//! Map consistency: whether a use of a map agrees with what the program does with it
//! elsewhere (its kind, key and value types), how two compatible types combine, and
//! the diagnostic that shows both places when they do not.

use super::mapsig::MapSig;
use crate::types::Type;
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::MapKind;

/// A human name for a map kind in diagnostics.
fn kind_name(kind: &MapKind) -> &'static str {
    match kind {
        MapKind::Value => "plain value",
        MapKind::Count => "count()",
        MapKind::Sum => "sum()",
        MapKind::Min => "min()",
        MapKind::Max => "max()",
        MapKind::Avg => "avg()",
        MapKind::Stats => "stats()",
        MapKind::Hist { .. } => "hist()",
        MapKind::Lhist { .. } => "lhist()",
    }
}

pub(super) fn describe(ty: &Type) -> String {
    match ty {
        Type::Int { .. } | Type::Bool | Type::Ptr { .. } => "an integer".to_string(),
        Type::Str { .. } => "a string".to_string(),
        other => format!("a {other}"),
    }
}

/// Whether two stored types can share a map (strings of any size unify).
pub(super) fn compatible(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Str { .. }, Type::Str { .. }) => true,
        (Type::Int { .. } | Type::Bool, Type::Int { .. } | Type::Bool) => true,
        (Type::Tuple(x), Type::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| compatible(a, b))
        }
        (Type::Named(m, x), Type::Named(n, y)) => m == n && compatible(x, y),
        _ => a == b,
    }
}

/// The wider of two compatible stored types.
pub(super) fn unify(a: &Type, b: &Type) -> Type {
    match (a, b) {
        (Type::Str { size: x }, Type::Str { size: y }) => Type::Str { size: *x.max(y) },
        (Type::Tuple(x), Type::Tuple(y)) => {
            Type::Tuple(x.iter().zip(y).map(|(a, b)| unify(a, b)).collect())
        }
        (Type::Named(name, x), Type::Named(_, y)) => {
            Type::Named(name.clone(), Box::new(unify(x, y)))
        }
        // A bool mixed with integers is an integer.
        (Type::Bool, Type::Int { .. }) => b.clone(),
        _ => a.clone(),
    }
}

/// How a new use of a map disagrees with its signature, if it does: what the map is
/// where it was learned, and what it is at the new use.
pub(super) fn conflict(
    sig: &MapSig,
    kind: &MapKind,
    key: &Option<Type>,
    value: &Type,
) -> Option<(String, String)> {
    if std::mem::discriminant(&sig.kind) != std::mem::discriminant(kind) {
        return Some((
            format!("is a {} map here", kind_name(&sig.kind)),
            format!("but a {} map here", kind_name(kind)),
        ));
    }
    if sig.kind == MapKind::Value && !compatible(&sig.value, value) {
        return Some((
            format!("holds {} here", describe(&sig.value)),
            format!("but {} here", describe(value)),
        ));
    }
    let key_text = |k: &Option<Type>| {
        k.as_ref()
            .map_or("no key".to_string(), |t| format!("key {t}"))
    };
    match (&sig.key, key) {
        (None, None) => None,
        (Some(a), Some(b)) if compatible(a, b) => None,
        _ => Some((
            format!("has {} here", key_text(&sig.key)),
            format!("but {} here", key_text(key)),
        )),
    }
}

pub(super) fn two_places(
    name: &str,
    (first, second): &(String, String),
    first_span: Span,
    span: Span,
) -> codespan_reporting::diagnostic::Diagnostic<()> {
    use codespan_reporting::diagnostic::{Diagnostic, Label};
    Diagnostic::error()
        .with_message(format!("map {name} is used inconsistently"))
        .with_labels(vec![
            Label::primary((), span.range()).with_message(second.clone()),
            Label::secondary((), first_span.range()).with_message(format!("{name} {first}")),
        ])
        .with_notes(vec![
            "a map has one key type and one value type in the whole program".to_string(),
        ])
}
