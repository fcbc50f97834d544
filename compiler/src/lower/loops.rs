//! Loops: `while`, `unroll(N)`, `for ($i : a..b)`, and `break`/`continue`. Loops become
//! back edges in the CFG; the kernel verifier proves they terminate. (`for ($kv : @m)`
//! is a callback instead: see `mapfor`.)

use super::Lower;
use crate::ir::{BlockId, Term};
use ebpfc_parser::ast::{BinOp, Block, Expr, ExprKind};
use ebpfc_parser::span::Span;

/// The most times `unroll` may repeat its body.
const MAX_UNROLL: i64 = 100;

impl Lower<'_> {
    /// `while (cond) { body }`
    pub(super) fn while_loop(&mut self, cond: &Expr, body: &Block) {
        let (head, inner, exit) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.b.jump_to(head);
        self.cond(cond, inner, exit);
        self.loop_body(body, head, exit);
        self.b.finish(Term::Jump(head), exit);
    }

    /// Lowers `body` with `next`/`exit` as its continue/break targets.
    fn loop_body(&mut self, body: &Block, next: BlockId, exit: BlockId) {
        self.loops.push((next, exit));
        self.block(body);
        self.loops.pop();
    }

    /// `unroll(N) { body }`: the body N times in sequence. `unroll` is not a loop of
    /// its own: `break` and `continue` in it are the enclosing loop's, as in bpftrace.
    pub(super) fn unroll(&mut self, count: &Expr, body: &Block) {
        let n = match self.const_int(count) {
            Some(n) if (1..=MAX_UNROLL).contains(&n) => n,
            _ => {
                let msg = format!("unroll needs an integer literal from 1 to {MAX_UNROLL}");
                self.error(msg, count.span, "invalid count");
                return;
            }
        };
        for _ in 0..n {
            self.block(body);
        }
    }

    /// `for ($i : from..to) { body }`: `$i` runs from `from` up to, not including, `to`.
    pub(super) fn for_range(
        &mut self,
        var: &str,
        from: &Expr,
        to: &Expr,
        body: &Block,
        span: Span,
    ) {
        let start = self.expr(from);
        self.assign_var(var, start, span);
        let var_expr = Expr {
            kind: ExprKind::Variable(var.to_string()),
            span,
        };
        let bound = self.int_operand(to);
        let limit = self.copy_reg(bound);
        let (head, inner, step, exit) = (
            self.fresh_block(),
            self.fresh_block(),
            self.fresh_block(),
            self.fresh_block(),
        );
        self.b.jump_to(head);
        let current = self.int_operand(&var_expr);
        let current = self.b.reg(current);
        self.b.branch(
            crate::ir::Cmp::SLt,
            current,
            crate::ir::Operand::Reg(limit),
            inner,
            exit,
        );
        self.loop_body(body, step, exit);
        self.b.jump_to(step);
        let one = Expr {
            kind: ExprKind::Int {
                value: 1,
                suffix: None,
            },
            span,
        };
        self.assign(&var_expr, Some(BinOp::Add), &one, span);
        self.b.finish(Term::Jump(head), exit);
    }

    /// `break` / `continue`.
    pub(super) fn loop_exit(&mut self, is_break: bool, span: Span) {
        let Some(&(next, exit)) = self.loops.last() else {
            let word = if is_break { "break" } else { "continue" };
            self.error(format!("'{word}' outside a loop"), span, "not in a loop");
            return;
        };
        let target = if is_break { exit } else { next };
        let dead = self.fresh_block();
        self.b.finish(Term::Jump(target), dead);
    }
}
