//! Node constructors used by the grammar's actions, and the checks that are easier to
//! make on a built node than in the grammar (assignment targets, dereferenced literals,
//! tuple indices). Problems found here are pushed as [`Issue::Diag`] and parsing goes on.

use std::convert::Infallible;

use codespan_reporting::diagnostic::Diagnostic;
use lalrpop_util::ErrorRecovery;

use crate::ast::*;
use crate::diagnostics::error;
use crate::token::{IntLit, Tok};

pub use crate::precedence::climb;

/// A problem met while parsing: a syntax error the parser recovered from, or a
/// diagnostic from a check in an action.
pub enum Issue<'a> {
    Recovered(ErrorRecovery<usize, Tok<'a>, Infallible>),
    Diag(Diagnostic<()>),
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
    check_target(issues, &target, "assign to");
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

/// `T[N]`
pub fn array_type(ty: TypeExpr, len: IntLit<'_>, r: usize) -> TypeExpr {
    let span = span(ty.span.start as usize, r);
    TypeExpr {
        kind: TypeKind::Array(Box::new(ty), len.value),
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
