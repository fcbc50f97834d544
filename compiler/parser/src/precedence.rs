//! C precedence for binary operators. The grammar reads `a op b op c ...` as one flat
//! list; [`climb`] arranges it into a tree, iteratively (operator-precedence parsing),
//! so long chains cost neither parser states nor stack depth here.

use crate::ast::{BinOp, Expr, ExprKind};

/// C's binding strength of each binary operator; higher binds tighter. All are
/// left-associative.
pub fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::LogOr => 1,
        BinOp::LogAnd => 2,
        BinOp::BitOr => 3,
        BinOp::BitXor => 4,
        BinOp::BitAnd => 5,
        BinOp::Eq | BinOp::Ne => 6,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 7,
        BinOp::Shl | BinOp::Shr => 8,
        BinOp::Add | BinOp::Sub => 9,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 10,
    }
}

/// Builds the tree of `first op1 e1 op2 e2 ...` by C precedence.
pub fn climb(first: Expr, mut rest: Vec<(BinOp, Expr)>) -> Expr {
    if rest.len() == 1 {
        let (op, rhs) = rest.pop().expect("one operator");
        return binary(op, first, rhs);
    }
    let mut operands = Vec::with_capacity(rest.len() + 1);
    let mut ops: Vec<BinOp> = Vec::with_capacity(rest.len());
    operands.push(first);
    for (op, rhs) in rest {
        while ops
            .last()
            .is_some_and(|top| precedence(*top) >= precedence(op))
        {
            combine(&mut operands, &mut ops);
        }
        ops.push(op);
        operands.push(rhs);
    }
    while !ops.is_empty() {
        combine(&mut operands, &mut ops);
    }
    operands.pop().expect("one operand is left")
}

/// Replaces the top two operands by the top operator applied to them.
fn combine(operands: &mut Vec<Expr>, ops: &mut Vec<BinOp>) {
    let (Some(op), Some(rhs), Some(lhs)) = (ops.pop(), operands.pop(), operands.pop()) else {
        unreachable!("there is always one more operand than operators");
    };
    operands.push(binary(op, lhs, rhs));
}

fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    let kind = ExprKind::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    };
    Expr { kind, span }
}
