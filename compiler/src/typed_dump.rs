//! The text of `--dump typed`: every expression of every probe with the type the
//! checker gave it, outermost first, one per line with its source position.

use crate::ir::Module;
use std::fmt::Write;

/// Renders the types recorded in `module` (compiled with `record_types`) against the
/// program's `source`.
pub fn dump(module: &Module, source: &str) -> String {
    let mut out = String::new();
    for (i, probe) in module.meta.probes.iter().enumerate() {
        let _ = writeln!(out, "{} [{}]", probe.name, probe.program);
        let mut exprs: Vec<_> = module.typed.iter().filter(|(f, ..)| *f == i).collect();
        exprs.sort_by_key(|(_, span, _)| (span.start, std::cmp::Reverse(span.end)));
        exprs.dedup_by_key(|(_, span, _)| (span.start, span.end));
        for (_, span, ty) in exprs {
            let (line, col) = line_col(source, span.start as usize);
            let text = source.get(span.range()).unwrap_or("?");
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(out, "  {line}:{col} {text} : {ty}");
        }
    }
    out
}

/// 1-based line and column of byte `offset`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}
