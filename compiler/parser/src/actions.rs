//! Node constructors used by the grammar's actions, and the checks that are easier to
//! make on a built node than in the grammar (assignment targets, dereferenced literals,
//! tuple indices). Problems found here are pushed as [`Issue::Diag`] and parsing goes on.

use std::convert::Infallible;

use codespan_reporting::diagnostic::Diagnostic;
use lalrpop_util::ErrorRecovery;

use crate::ast::*;
use crate::diagnostics::error;
use crate::mistakes::AGGREGATIONS;
use crate::token::{IntLit, Tok};

pub use crate::precedence::climb;

/// A problem met while parsing: a syntax error the parser recovered from, or a
/// diagnostic from a check in an action.
pub enum Issue<'a> {
    Recovered(ErrorRecovery<usize, Tok<'a>, Infallible>),
    Diag(Diagnostic<()>),
    /// `@m = count`: an aggregation's name assigned without parentheses; reported
    /// unless a macro of that name turns out to exist.
    BareAggregation(String, Span),
}

pub fn span(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

pub fn spanned<T>(node: T, l: usize, r: usize) -> Spanned<T> {
    Spanned {
        node,
        span: span(l, r),
    }
}

pub fn name(text: &str, l: usize, r: usize) -> Spanned<String> {
    spanned(text.to_string(), l, r)
}

pub fn expr(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr {
        kind,
        span: span(l, r),
    }
}

pub fn stmt(kind: StmtKind, l: usize, r: usize) -> Box<Stmt> {
    Box::new(Stmt {
        kind,
        span: span(l, r),
    })
}

pub fn int(lit: IntLit<'_>) -> ExprKind {
    ExprKind::Int {
        value: lit.value,
        suffix: lit.suffix.map(str::to_string),
    }
}

pub fn ternary(cond: Expr, then: Option<Expr>, otherwise: Expr) -> Expr {
    let span = cond.span.to(otherwise.span);
    let kind = ExprKind::Ternary {
        cond: Box::new(cond),
        then: then.map(Box::new),
        otherwise: Box::new(otherwise),
    };
    Expr { kind, span }
}

/// A prefix operator applied to `e`; dereferencing a literal is reported.
pub fn unary(issues: &mut Vec<Issue<'_>>, op: UnaryOp, e: Expr, l: usize) -> Expr {
    let span = span(l, e.span.end as usize);
    let literal = matches!(
        e.kind,
        ExprKind::Int { .. } | ExprKind::Str(_) | ExprKind::Bool(_)
    );
    if literal && matches!(op, UnaryOp::Deref | UnaryOp::AddrOf) {
        let (what, sym) = if op == UnaryOp::Deref {
            ("dereference", '*')
        } else {
            ("take the address of", '&')
        };
        issues.push(Issue::Diag(
            error(
                format!("cannot {what} a literal"),
                span.range(),
                format!("'{sym}' applied to a literal"),
            )
            .with_notes(vec![format!(
                "'{sym}' before an operand is the unary operator; is an operand missing before it?"
            )]),
        ));
    }
    Expr {
        kind: ExprKind::Unary {
            op,
            expr: Box::new(e),
        },
        span,
    }
}

pub fn cast(ty: TypeExpr, e: Expr, l: usize) -> Expr {
    let span = span(l, e.span.end as usize);
    Expr {
        kind: ExprKind::Cast {
            ty,
            expr: Box::new(e),
        },
        span,
    }
}

/// `++e`, `e++`, `--e`, `e--`; the target must be assignable.
pub fn incdec(
    issues: &mut Vec<Issue<'_>>,
    target: Expr,
    increment: bool,
    prefix: bool,
    (l, r): (usize, usize),
) -> Expr {
    check_target(
        issues,
        &target,
        if increment { "increment" } else { "decrement" },
    );
    expr(
        ExprKind::IncDec {
            target: Box::new(target),
            increment,
            prefix,
        },
        l,
        r,
    )
}

/// `target = value` or `target op= value`.
pub fn assign(
    issues: &mut Vec<Issue<'_>>,
    target: Expr,
    op: Option<BinOp>,
    value: Expr,
) -> StmtKind {
    let discard = op.is_none() && matches!(&target.kind, ExprKind::Ident(n) if n == "_");
    if !discard {
        check_target(issues, &target, "assign to");
    }
    match &value.kind {
        ExprKind::Ident(name) if AGGREGATIONS.contains(&name.as_str()) => {
            issues.push(Issue::BareAggregation(name.clone(), value.span));
        }
        _ => {}
    }
    StmtKind::Assign { target, op, value }
}

fn check_target(issues: &mut Vec<Issue<'_>>, target: &Expr, verb: &str) {
    let ok = matches!(
        &target.kind,
        ExprKind::Variable(_)
            | ExprKind::Map { .. }
            | ExprKind::Field { .. }
            | ExprKind::Index { .. }
            | ExprKind::TupleIndex { .. }
            | ExprKind::Unary {
                op: UnaryOp::Deref,
                ..
            }
    );
    if !ok {
        issues.push(Issue::Diag(
            error(
                format!("cannot {verb} this expression"),
                target.span.range(),
                "not a variable, map or field",
            )
            .with_notes(vec![
                "use a scratch variable ($x), a map (@m or @m[key]) or a field".to_string(),
            ]),
        ));
    }
}

/// `e.0`: the index must be a plain decimal integer.
pub fn tuple_index(
    issues: &mut Vec<Issue<'_>>,
    e: Expr,
    lit: IntLit<'_>,
    (l, r): (usize, usize),
) -> Expr {
    let index = u32::try_from(lit.value)
        .ok()
        .filter(|_| lit.suffix.is_none());
    if index.is_none() {
        issues.push(Issue::Diag(error(
            "invalid tuple index",
            l..r,
            "expected a small integer like .0",
        )));
    }
    let start = e.span.start as usize;
    expr(
        ExprKind::TupleIndex {
            expr: Box::new(e),
            index: index.unwrap_or(0),
        },
        start,
        r,
    )
}

pub fn field(e: Expr, field: Spanned<String>, arrow: bool) -> Expr {
    let span = e.span.to(field.span);
    Expr {
        kind: ExprKind::Field {
            expr: Box::new(e),
            field,
            arrow,
        },
        span,
    }
}

/// A block holding one expression statement (an `else if` branch of an `if` expression).
pub fn expr_block(e: Expr) -> Block {
    let span = e.span;
    Block {
        stmts: vec![Stmt {
            kind: StmtKind::Expr(e),
            span,
        }],
        span,
    }
}

/// A block holding one statement (an `else if` branch of an `if` statement).
pub fn stmt_block(s: Stmt) -> Block {
    let span = s.span;
    Block {
        stmts: vec![s],
        span,
    }
}

/// A type name made of one or more words (`uint32`, `unsigned long`).
pub fn named_type(words: Vec<&str>, l: usize, r: usize) -> TypeExpr {
    TypeExpr {
        kind: TypeKind::Named(words.join(" ")),
        span: span(l, r),
    }
}

/// `T[N]`, or `T[]` (length 0) when `len` is `None`.
pub fn array_type(ty: TypeExpr, len: Option<IntLit<'_>>, r: usize) -> TypeExpr {
    let span = span(ty.span.start as usize, r);
    TypeExpr {
        kind: TypeKind::Array(Box::new(ty), len.map_or(0, |n| n.value)),
        span,
    }
}

pub fn pointer_type(ty: TypeExpr, r: usize) -> TypeExpr {
    let span = span(ty.span.start as usize, r);
    TypeExpr {
        kind: TypeKind::Pointer(Box::new(ty)),
        span,
    }
}

/// `{ stmts; last }` used as a value. Without a trailing expression, a final `if`
/// with an `else`, or a nested block, becomes the value; any other ending is reported.
pub fn block_expr(
    issues: &mut Vec<Issue<'_>>,
    mut stmts: Vec<Stmt>,
    last: Option<Expr>,
    (l, r): (usize, usize),
) -> Expr {
    match last {
        Some(e) => stmts.push(Stmt {
            span: e.span,
            kind: StmtKind::Expr(e),
        }),
        None => match stmts.last_mut() {
            Some(last) => {
                if !make_value(last) {
                    issues.push(Issue::Diag(no_block_value(last)));
                }
            }
            None => issues.push(Issue::Diag(empty_block_value(span(l, r)))),
        },
    }
    let block = Block {
        stmts,
        span: span(l, r),
    };
    expr(ExprKind::Block(block), l, r)
}

/// Turns the last statement of a block expression into its value: an `if` with an
/// `else`, or a nested block, becomes an expression statement. False if it cannot.
fn make_value(s: &mut Stmt) -> bool {
    let value = match std::mem::replace(&mut s.kind, StmtKind::Break) {
        StmtKind::If {
            cond,
            then,
            otherwise: Some(otherwise),
        } => ExprKind::IfExpr {
            cond: Box::new(cond),
            then,
            otherwise,
        },
        StmtKind::Block(b) => ExprKind::Block(b),
        kind => {
            s.kind = kind;
            return false;
        }
    };
    s.kind = StmtKind::Expr(Expr {
        kind: value,
        span: s.span,
    });
    true
}

const BLOCK_VALUE_NOTE: &str =
    "a block used as a value ends with an expression and no ';': { let $a = 1; $a + 1 }";

fn no_block_value(last: &Stmt) -> Diagnostic<()> {
    let label = match last.kind {
        StmtKind::Expr(_) => "remove the ';' after this expression to make it the value",
        _ => "this statement is not an expression",
    };
    error("this block has no value", last.span.range(), label)
        .with_notes(vec![BLOCK_VALUE_NOTE.to_string()])
}

fn empty_block_value(at: Span) -> Diagnostic<()> {
    error("this block has no value", at.range(), "this block is empty")
        .with_notes(vec![BLOCK_VALUE_NOTE.to_string()])
}

/// C's `for (init; cond; step)` loop, which the language does not have.
pub fn c_for_loop(l: usize, r: usize) -> Diagnostic<()> {
    error(
        "C-style for loops are not supported",
        l..r,
        "a loop over a range or a map is written 'for ($x : ...)'",
    )
    .with_notes(vec![
        "write 'for ($i : 0..10) { }' or 'for ($kv : @map) { }'".to_string(),
    ])
}

/// The placeholder for a statement that failed to parse.
pub fn placeholder_stmt(l: usize, r: usize) -> Box<Stmt> {
    stmt(
        StmtKind::Block(Block {
            stmts: Vec::new(),
            span: span(l, r),
        }),
        l,
        r,
    )
}
