//! Unit tests of the parser, grouped by feature.

mod attach;
mod errors;
mod language;
mod literals;
mod mistakes;
mod slice;
mod tools;
mod upstream;

use codespan_reporting::diagnostic::Diagnostic;

use crate::ast::{ExprKind, Item, Probe, Program, StmtKind};
use crate::{dump, parse, render};

/// Parses `src`, panicking with the rendered diagnostics on failure.
fn ok(src: &str) -> Program {
    match parse(src) {
        Ok(p) => p,
        Err(diags) => panic!("parse failed:\n{}", render("test.bt", src, &diags)),
    }
}

/// The dump of a program that must parse.
fn tree(src: &str) -> String {
    dump(&ok(src))
}

/// The dump of the first statement of the first probe, which is `BEGIN { <body> }`.
fn stmt_tree(body: &str) -> String {
    let src = format!("BEGIN {{ {body} }}");
    let tree = tree(&src);
    let lines: Vec<&str> = tree.lines().skip(1).map(|l| &l[2..]).collect();
    lines.join("\n") + "\n"
}

/// The dump of the expression statement `e;`, without the `expr` line.
fn expr_tree(e: &str) -> String {
    let tree = stmt_tree(&format!("{e};"));
    let lines: Vec<&str> = tree.lines().skip(1).map(|l| &l[2..]).collect();
    lines.join("\n") + "\n"
}

fn first_probe(program: Program) -> Probe {
    program
        .items
        .into_iter()
        .find_map(|item| match item {
            Item::Probe(p) => Some(p),
            _ => None,
        })
        .expect("no probe")
}

/// The first statement's expression of `BEGIN { <e>; }`.
fn expr(e: &str) -> ExprKind {
    let probe = first_probe(ok(&format!("BEGIN {{ {e}; }}")));
    match &probe.body.stmts[0].kind {
        StmtKind::Expr(e) => e.kind.clone(),
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// The diagnostics of a program that must fail, as `line:col: message`.
fn errors(src: &str) -> Vec<String> {
    let diags = parse(src).expect_err("parse should fail");
    diags
        .iter()
        .map(|d| format!("{}: {}", line_col(src, d), d.message))
        .collect()
}

/// The rendered diagnostics of a program that must fail.
fn rendered(src: &str) -> String {
    let diags = parse(src).expect_err("parse should fail");
    render("test.bt", src, &diags)
}

/// The 1-based line and column of the diagnostic's primary label.
fn line_col(src: &str, diag: &Diagnostic<()>) -> String {
    let label = diag.labels.first().expect("diagnostic without label");
    let before = &src[..label.range.start];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{line}:{col}")
}
