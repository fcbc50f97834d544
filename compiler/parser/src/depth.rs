//! The bound on syntax-tree depth. Every pass over the AST (here and in later crates)
//! recurses on it, so a parsed program is guaranteed to be at most [`MAX_DEPTH`]
//! statements and expressions deep. The check itself recurses no deeper than the bound.

use codespan_reporting::diagnostic::Diagnostic;

use crate::ast::*;
use crate::diagnostics::error;

/// The deepest nesting of statements and expressions a program may have.
pub const MAX_DEPTH: usize = 500;

/// Reports the first node found below [`MAX_DEPTH`], if any.
pub(crate) fn check(program: &Program) -> Option<Diagnostic<()>> {
    let result = program.items.iter().try_for_each(|item| match item {
        Item::Config(c) => c.entries.iter().try_for_each(|(_, e)| expr(e, MAX_DEPTH)),
        Item::Macro(m) => block(&m.body, MAX_DEPTH),
        Item::Function(f) => block(&f.body, MAX_DEPTH),
        Item::MapDecl(d) => exprs(&d.args, MAX_DEPTH),
        Item::Probe(p) => {
            p.predicate.iter().try_for_each(|e| expr(e, MAX_DEPTH))?;
            block(&p.body, MAX_DEPTH)
        }
        Item::Preprocessor(_) | Item::CDefinition(_) => Ok(()),
    });
    let span = result.err()?;
    Some(
        error(
            "this is nested too deeply",
            span.range(),
            "nesting limit reached here",
        )
        .with_notes(vec![format!(
            "statements and expressions may nest at most {MAX_DEPTH} deep"
        )]),
    )
}

/// `Err` carries the span of the node where the bound was reached.
type Walk = Result<(), Span>;

fn deeper(left: usize, span: Span) -> Result<usize, Span> {
    left.checked_sub(1).filter(|l| *l > 0).ok_or(span)
}

fn block(b: &Block, left: usize) -> Walk {
    let left = deeper(left, b.span)?;
    b.stmts.iter().try_for_each(|s| stmt(s, left))
}

fn stmt(s: &Stmt, left: usize) -> Walk {
    let left = deeper(left, s.span)?;
    match &s.kind {
        StmtKind::Expr(e) => expr(e, left),
        StmtKind::Let { value, .. } | StmtKind::Return(value) => {
            value.iter().try_for_each(|e| expr(e, left))
        }
        StmtKind::Assign { target, value, .. } => {
            expr(target, left)?;
            expr(value, left)
        }
        StmtKind::If {
            cond,
            then,
            otherwise,
        } => {
            expr(cond, left)?;
            block(then, left)?;
            otherwise.iter().try_for_each(|b| block(b, left))
        }
        StmtKind::While { cond, body } | StmtKind::Unroll { count: cond, body } => {
            expr(cond, left)?;
            block(body, left)
        }
        StmtKind::For { iter, body, .. } => {
            match iter {
                ForIter::Map(e) => expr(e, left)?,
                ForIter::Range(a, b) => exprs([a, b], left)?,
            }
            block(body, left)
        }
        StmtKind::Block(b) => block(b, left),
        StmtKind::Break | StmtKind::Continue => Ok(()),
    }
}

fn exprs<'e>(es: impl IntoIterator<Item = &'e Expr>, left: usize) -> Walk {
    es.into_iter().try_for_each(|e| expr(e, left))
}

fn expr(e: &Expr, left: usize) -> Walk {
    let left = deeper(left, e.span)?;
    match &e.kind {
        ExprKind::Map { keys: list, .. }
        | ExprKind::Call { args: list, .. }
        | ExprKind::Tuple(list) => exprs(list, left),
        ExprKind::Unary { expr: inner, .. }
        | ExprKind::IncDec { target: inner, .. }
        | ExprKind::Field { expr: inner, .. }
        | ExprKind::TupleIndex { expr: inner, .. }
        | ExprKind::Cast { expr: inner, .. } => expr(inner, left),
        ExprKind::Binary { lhs: a, rhs: b, .. } | ExprKind::Index { expr: a, index: b } => {
            exprs([a.as_ref(), b.as_ref()], left)
        }
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => {
            exprs([cond.as_ref(), otherwise.as_ref()], left)?;
            then.iter().try_for_each(|t| expr(t, left))
        }
        ExprKind::IfExpr {
            cond,
            then,
            otherwise,
        } => {
            expr(cond, left)?;
            block(then, left)?;
            block(otherwise, left)
        }
        ExprKind::Record(fields) => fields.iter().try_for_each(|(_, e)| expr(e, left)),
        ExprKind::SizeOf(arg) => match arg.as_ref() {
            SizeOfArg::Expr(e) => expr(e, left),
            SizeOfArg::Type(_) => Ok(()),
        },
        ExprKind::Block(b) => block(b, left),
        ExprKind::Int { .. }
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Variable(_)
        | ExprKind::Positional(_)
        | ExprKind::PositionalCount
        | ExprKind::Ident(_)
        | ExprKind::OffsetOf { .. } => Ok(()),
    }
}
