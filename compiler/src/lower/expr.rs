//! Expressions and conditions: integer arithmetic with C semantics (signedness decides
//! division, shifts and comparisons), string comparison, variables, map reads, field
//! access on tracepoint `args`, casts, and short-circuit conditions.

use super::{Lower, Val};
use crate::ir::{AluOp, BlockId, Cmp, Inst, Operand, Term, VReg};
use crate::types::Type;
use ebpfc_parser::ast::{BinOp, Expr, ExprKind, SizeOfArg, UnaryOp};
use ebpfc_parser::span::Span;

impl Lower<'_> {
    /// Lowers an expression to a value; errors are reported and yield a zero.
    pub(super) fn expr(&mut self, e: &Expr) -> Val {
        let v = self.expr_value(e);
        if !self.module.learning {
            let function = self.module.function;
            if let Some(typed) = &mut self.module.typed {
                typed.push((function, e.span, v.ty()));
            }
        }
        v
    }

    fn expr_value(&mut self, e: &Expr) -> Val {
        match &e.kind {
            ExprKind::Int { value, .. } => {
                // Every literal is an int64, as in bpftrace 0.17 (0xffffffffffffffff is -1).
                Val::Scalar(Operand::Imm(*value as i64), Type::I64)
            }
            ExprKind::Bool(b) => Val::Scalar(Operand::Imm(i64::from(*b)), Type::Bool),
            ExprKind::Str(s) => self.checked_str_literal(s, e.span),
            ExprKind::Variable(name) => self.variable(name, e),
            ExprKind::Positional(n) => self.positional(*n),
            ExprKind::PositionalCount => {
                Val::Scalar(Operand::Imm(self.module.params.len() as i64), Type::I64)
            }
            ExprKind::Ident(name) => self.builtin(name, e.span),
            ExprKind::Map { name, keys } => self.read_map(&self.map_name(name), keys, e.span),
            ExprKind::Block(b) => self.block_with_value(b).unwrap_or(Val::Void),
            ExprKind::Call { name, args } => self.call(&name.node, args, e.span),
            ExprKind::Unary {
                op: UnaryOp::Deref,
                expr,
            } => self.deref(expr),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } if matches!(expr.kind, ExprKind::Int { value, .. } if value <= 1 << 63) => {
                let value = self.const_int(e).unwrap_or_default();
                Val::Scalar(Operand::Imm(value), Type::I64)
            }
            ExprKind::Unary {
                op: UnaryOp::AddrOf,
                expr,
            } => self.address_of(expr),
            ExprKind::Unary { op, expr } => self.unary(*op, expr),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e),
            ExprKind::Field { expr, field, .. } => self.field(expr, field),
            ExprKind::Index { expr, index } => self.index(expr, index, e.span),
            ExprKind::SizeOf(arg) => self.size_of(arg, e.span),
            ExprKind::OffsetOf { ty, fields } => self.offset_of(ty, fields),
            ExprKind::Tuple(elems) => self.tuple(elems),
            ExprKind::Record(fields) => self.record(fields),
            ExprKind::TupleIndex { expr, index } => self.tuple_index(expr, *index, e.span),
            ExprKind::Cast { ty, expr } => self.cast(ty, expr),
            ExprKind::IncDec {
                target,
                increment,
                prefix,
            } => self.inc_dec(target, *increment, *prefix, e),
            ExprKind::Ternary {
                cond,
                then: Some(then),
                otherwise,
            } => self.ternary(cond, then, otherwise),
            _ => {
                self.error(
                    "this expression is not supported yet",
                    e.span,
                    "unsupported",
                );
                Val::zero()
            }
        }
    }

    /// Lowers an expression that must be an integer.
    pub(super) fn int_operand(&mut self, e: &Expr) -> Operand {
        match self.expr(e) {
            Val::Scalar(op, _) => op,
            other => {
                self.error(
                    format!("expected an integer, found {}", other.ty()),
                    e.span,
                    "not an integer",
                );
                Operand::Imm(0)
            }
        }
    }

    /// A string literal used as a value: it must fit [`Self::string_capacity`] (the NUL
    /// included), as bpftrace requires.
    fn checked_str_literal(&mut self, text: &str, span: Span) -> Val {
        let len = ebpfc_stdlib::bytes::literal_bytes(text).len();
        let most = self.string_capacity() as usize - 1;
        if len > most {
            let msg = format!(
                "string literal is too long: {len} bytes, and strings hold {most} (see BPFTRACE_STRLEN)"
            );
            self.error(msg, span, "too long");
        }
        self.str_literal(text)
    }

    /// The value of a constant integer expression, if it is one.
    pub(super) fn const_int(&mut self, e: &Expr) -> Option<i64> {
        match &e.kind {
            ExprKind::Int { value, .. } => Some(*value as i64),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => self.const_int(expr).map(i64::wrapping_neg),
            // Parameters are known when the program is compiled, as bpftrace treats them.
            ExprKind::Positional(n) => match self.module.params.get(*n as usize - 1) {
                Some(text) => parse_int(text),
                None => Some(0),
            },
            ExprKind::PositionalCount => i64::try_from(self.module.params.len()).ok(),
            _ => None,
        }
    }

    fn variable(&mut self, name: &str, e: &Expr) -> Val {
        match self.vars.get(name).cloned() {
            Some(super::Var::Entry(entry)) => self.entry_tuple(&entry),
            Some(var) => var.value(),
            None => {
                self.error(
                    format!("variable {name} is used before it is assigned"),
                    e.span,
                    "undefined variable",
                );
                Val::zero()
            }
        }
    }

    /// `x++`, `++x`, `x--`, `--x` used as values.
    fn inc_dec(&mut self, target: &Expr, increment: bool, prefix: bool, e: &Expr) -> Val {
        let (old, ty) = self.scalar(target);
        let old = self.copy_reg(old);
        let op = if increment { BinOp::Add } else { BinOp::Sub };
        self.step(target, op, e.span);
        if prefix {
            return self.expr(target);
        }
        Val::Scalar(Operand::Reg(old), ty)
    }

    /// `$N`: an integer if the parameter reads as one, else a string; missing ones are 0.
    fn positional(&mut self, n: u32) -> Val {
        let Some(text) = self.module.params.get(n as usize - 1).cloned() else {
            return Val::zero();
        };
        match parse_int(&text) {
            Some(v) => Val::Scalar(Operand::Imm(v), Type::I64),
            None => self.str_literal(&text),
        }
    }

    fn unary(&mut self, op: UnaryOp, inner: &Expr) -> Val {
        let (src, ty) = match self.expr(inner) {
            Val::Scalar(op, ty) => (op, ty),
            other => {
                self.error(
                    format!("operator needs an integer, found {}", other.ty()),
                    inner.span,
                    "here",
                );
                return Val::zero();
            }
        };
        let dst = self.b.vreg();
        let r = self.b.reg(src);
        match op {
            UnaryOp::Neg => self.b.emit(Inst::Neg { dst, src: r }),
            UnaryOp::BitNot => self.b.emit(Inst::Alu {
                dst,
                op: AluOp::Xor,
                lhs: r,
                rhs: Operand::Imm(-1),
            }),
            UnaryOp::Not => self.b.emit(Inst::Set {
                dst,
                cond: Cmp::Eq,
                lhs: r,
                rhs: Operand::Imm(0),
            }),
            UnaryOp::Deref | UnaryOp::AddrOf => unreachable!("lowered by deref and address_of"),
        }
        match (op, &ty) {
            (UnaryOp::Not, _) => Val::Scalar(Operand::Reg(dst), Type::Bool),
            // `-b` and `~b` of a bool are integers.
            (_, Type::Bool) => Val::Scalar(Operand::Reg(dst), Type::I64),
            (_, Type::Int { size, signed }) if *size < 8 => {
                // `~(uint8)0` is 255: the result keeps the operand's width.
                let narrow = self.b.vreg();
                self.b.emit(Inst::Ext {
                    dst: narrow,
                    src: dst,
                    size: *size,
                    signed: *signed,
                });
                Val::Scalar(Operand::Reg(narrow), ty)
            }
            _ => Val::Scalar(Operand::Reg(dst), ty),
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, e: &Expr) -> Val {
        if matches!(op, BinOp::LogAnd | BinOp::LogOr) || comparison(op, true).is_some() {
            return self.bool_value(e);
        }
        let (a, at) = self.scalar(lhs);
        let (b, bt) = self.scalar(rhs);
        if let (Type::Ptr { pointee, .. }, BinOp::Add | BinOp::Sub) = (&at, op) {
            return self.pointer_step(a, &at, pointee.size(), b, op == BinOp::Sub);
        }
        let signed = at.is_signed() && bt.is_signed();
        let alu = match op {
            BinOp::Add => AluOp::Add,
            BinOp::Sub => AluOp::Sub,
            BinOp::Mul => AluOp::Mul,
            // bpftrace 0.17 divides as unsigned whatever the operands' signs.
            BinOp::Div => AluOp::UDiv,
            BinOp::Mod => AluOp::UMod,
            BinOp::BitAnd => AluOp::And,
            BinOp::BitOr => AluOp::Or,
            BinOp::BitXor => AluOp::Xor,
            BinOp::Shl => AluOp::Shl,
            // bpftrace shifts right logically whatever the operand's sign.
            _ => AluOp::LShr,
        };
        if let (Operand::Imm(x), Operand::Imm(y)) = (a, b) {
            if let Some(v) = fold(alu, x, y) {
                return Val::Scalar(Operand::Imm(v), Type::Int { size: 8, signed });
            }
        }
        let dst = self.b.vreg();
        let lhs = self.b.reg(a);
        self.b.emit(Inst::Alu {
            dst,
            op: alu,
            lhs,
            rhs: b,
        });
        Val::Scalar(Operand::Reg(dst), Type::Int { size: 8, signed })
    }

    /// `p + n` / `p - n`: moves a pointer by `n` elements of `elem_size` bytes.
    fn pointer_step(
        &mut self,
        p: Operand,
        ty: &Type,
        elem_size: u32,
        n: Operand,
        back: bool,
    ) -> Val {
        let dst = self.b.vreg();
        let step = self.b.vreg();
        let n = self.b.reg(n);
        self.b.emit(Inst::Alu {
            dst: step,
            op: AluOp::Mul,
            lhs: n,
            rhs: Operand::Imm(i64::from(elem_size.max(1))),
        });
        let p = self.b.reg(p);
        let op = if back { AluOp::Sub } else { AluOp::Add };
        self.b.emit(Inst::Alu {
            dst,
            op,
            lhs: p,
            rhs: Operand::Reg(step),
        });
        Val::Scalar(Operand::Reg(dst), ty.clone())
    }

    /// Lowers an integer operand, reporting non-integers.
    fn scalar(&mut self, e: &Expr) -> (Operand, Type) {
        match self.expr(e) {
            Val::Scalar(op, ty) => (op, ty),
            other => {
                self.error(
                    format!("arithmetic needs integers, found {}", other.ty()),
                    e.span,
                    "not an integer",
                );
                (Operand::Imm(0), Type::I64)
            }
        }
    }

    /// A condition used as a value: 1 or 0.
    fn bool_value(&mut self, e: &Expr) -> Val {
        let dst = self.b.vreg();
        let (t, f, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.cond(e, t, f);
        self.b.emit(Inst::Mov {
            dst,
            src: Operand::Imm(1),
        });
        self.b.finish(Term::Jump(done), f);
        self.b.emit(Inst::Mov {
            dst,
            src: Operand::Imm(0),
        });
        self.b.jump_to(done);
        Val::Scalar(Operand::Reg(dst), Type::Bool)
    }

    /// Ends the current block branching to `t` when `e` is true, else to `f`; `t` becomes
    /// current (with nothing emitted in it yet).
    pub(super) fn cond(&mut self, e: &Expr, t: BlockId, f: BlockId) {
        match &e.kind {
            ExprKind::Binary {
                op: BinOp::LogAnd,
                lhs,
                rhs,
            } => {
                let mid = self.fresh_block();
                self.cond(lhs, mid, f);
                self.cond(rhs, t, f);
            }
            ExprKind::Binary {
                op: BinOp::LogOr,
                lhs,
                rhs,
            } => {
                let mid = self.fresh_block();
                self.cond(lhs, t, mid);
                self.b.switch_to(mid);
                self.cond(rhs, t, f);
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => {
                self.cond(expr, f, t);
                self.b.switch_to(t);
            }
            ExprKind::Binary { op, lhs, rhs } if comparison(*op, true).is_some() => {
                self.compare(*op, lhs, rhs, t, f);
            }
            _ => {
                let (op, _) = self.scalar(e);
                let r = self.b.reg(op);
                self.b.branch(Cmp::Ne, r, Operand::Imm(0), t, f);
            }
        }
    }

    fn compare(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, t: BlockId, f: BlockId) {
        let a = self.expr(lhs);
        let b = self.expr(rhs);
        match (&a, &b) {
            (Val::Scalar(x, xt), Val::Scalar(y, yt)) => {
                let signed = xt.is_signed() && yt.is_signed();
                let cmp = comparison(op, signed).unwrap_or(Cmp::Eq);
                let lhs = self.b.reg(*x);
                self.b.branch(cmp, lhs, *y, t, f);
            }
            (Val::Str(..), Val::Str(..)) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                let eq = self.str_equal(&a, &b, rhs);
                let cmp = if op == BinOp::Eq { Cmp::Ne } else { Cmp::Eq };
                self.b.branch(cmp, eq, Operand::Imm(0), t, f);
            }
            _ => {
                let span = lhs.span.to(rhs.span);
                let pointer_and_string = matches!(
                    (a.ty(), b.ty()),
                    (Type::Ptr { .. }, Type::Str { .. }) | (Type::Str { .. }, Type::Ptr { .. })
                );
                let hint = if pointer_and_string {
                    "; read the pointer's string with str() first"
                } else {
                    ""
                };
                let msg = format!(
                    "cannot compare {} with {} using '{}'{hint}",
                    a.ty(),
                    b.ty(),
                    op.symbol()
                );
                self.error(msg, span, "mismatched operands");
                self.b.branch(Cmp::Eq, self.ctx, Operand::Imm(0), t, f);
            }
        }
    }

    fn ternary(&mut self, cond: &Expr, then: &Expr, otherwise: &Expr) -> Val {
        let (t, f, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        let dst = self.b.vreg();
        self.cond(cond, t, f);
        let (a, ty) = match self.expr(then) {
            Val::Str(slot, size) => return self.string_ternary((slot, size), otherwise, f, done),
            Val::Scalar(op, ty) => (op, ty),
            Val::Void => return self.void_ternary(otherwise, f, done),
            other => {
                let msg = format!(
                    "a ternary's arms must be integers or strings, found {}",
                    other.ty()
                );
                self.error(msg, then.span, "here");
                (Operand::Imm(0), Type::I64)
            }
        };
        self.b.emit(Inst::Mov { dst, src: a });
        self.b.finish(Term::Jump(done), f);
        let (b, _) = self.scalar(otherwise);
        self.b.emit(Inst::Mov { dst, src: b });
        self.b.jump_to(done);
        Val::Scalar(Operand::Reg(dst), ty)
    }

    /// The rest of `c ? a : b` whose first arm has no value (`print()`, `exit()`): a
    /// statement like `if`, and the other arm must have no value either.
    fn void_ternary(&mut self, otherwise: &Expr, f: BlockId, done: BlockId) -> Val {
        self.b.finish(Term::Jump(done), f);
        let other = self.expr(otherwise);
        if !matches!(other, Val::Void) {
            let msg = format!(
                "a ternary's arms must have the same type: the first has no value, this one is {}",
                other.ty()
            );
            self.error(msg, otherwise.span, "has a value");
        }
        self.b.jump_to(done);
        Val::Void
    }

    fn cast(&mut self, ty: &ebpfc_parser::ast::TypeExpr, inner: &Expr) -> Val {
        let Some(target) = self.resolve_type(ty) else {
            return Val::zero();
        };
        let (size, signed) = match target {
            Type::Int { size, signed } => (size, signed),
            Type::Ptr { .. } => return self.pointer_cast(target, inner),
            other => {
                let msg = format!("cannot cast to {other}: only integer and pointer casts exist");
                self.error(msg, ty.span, "unsupported cast");
                return Val::zero();
            }
        };
        let (op, from) = self.scalar(inner);
        let mut v = Val::Scalar(op, from.clone());
        // Widening extends from the source's width by the target's signedness, as
        // bpftrace 0.17 does: `(int16)(uint8)255` is -1, `(uint64)(int8)-1` is 255.
        if let Some((from_size, _)) = from.int_parts().filter(|(s, _)| *s < size) {
            let narrow = Type::Int {
                size: from_size,
                signed,
            };
            v = self.convert_int(v, &narrow);
        }
        self.convert_int(v, &Type::Int { size, signed })
    }

    /// A scalar converted to integer type `to`, truncated and extended as a cast does
    /// (folded when it is a constant); other values are returned as they are.
    pub(super) fn convert_int(&mut self, v: Val, to: &Type) -> Val {
        let (Val::Scalar(op, _), Type::Int { size, signed }) = (&v, to) else {
            return v;
        };
        if let Operand::Imm(c) = op {
            return Val::Scalar(Operand::Imm(truncate(*c, *size, *signed)), to.clone());
        }
        let src = self.b.reg(*op);
        let dst = self.b.vreg();
        self.b.emit(Inst::Ext {
            dst,
            src,
            size: *size,
            signed: *signed,
        });
        Val::Scalar(Operand::Reg(dst), to.clone())
    }

    /// `sizeof(type)` / `sizeof(expr)`.
    fn size_of(&mut self, arg: &SizeOfArg, span: Span) -> Val {
        let ty = match arg {
            SizeOfArg::Type(t) => self.resolve_type(t),
            SizeOfArg::Expr(e) => Some(self.expr(e).ty()),
        };
        let size = ty.map_or(0, |t| t.size());
        if size == 0 {
            self.error("this has no size", span, "sizeof");
        }
        Val::Scalar(Operand::Imm(i64::from(size)), Type::U64)
    }

    fn builtin(&mut self, name: &str, span: ebpfc_parser::span::Span) -> Val {
        if let Some(v) = self.macro_ident(name) {
            return v;
        }
        let kind = self.target.attach.kind();
        let misplaced = ebpfc_stdlib::catalogue::variable(name)
            .and_then(|v| ebpfc_stdlib::catalogue::probe_kind_error(name, &v.probes, kind));
        if let Some(msg) = misplaced {
            self.error(msg, span, "not in this kind of probe");
            return Val::zero();
        }
        match self.builtin_value(name) {
            Some(v) => v,
            None => match self.module.types.constant(name) {
                Some(value) => Val::Scalar(Operand::Imm(value), Type::I64),
                None => self.unknown_identifier(name, span),
            },
        }
    }

    fn unknown_identifier(&mut self, name: &str, span: Span) -> Val {
        if name == "cpid" {
            let msg = "cpid is the pid of the command -c runs: it needs -c";
            self.error(msg, span, "no child command");
            return Val::zero();
        }
        if ebpfc_stdlib::catalogue::is_variable(name) {
            let msg = format!("{name} is not available in {} probes", self.target.name);
            self.error(msg, span, "not available here");
            return Val::zero();
        }
        let hint = crate::suggest::did_you_mean(name, ebpfc_stdlib::catalogue::variable_names())
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        let msg = format!("unknown identifier '{name}'{hint}");
        self.error(msg, span, "unknown");
        Val::zero()
    }

    /// Moves a register value into a fresh register (so later writes don't alias).
    pub(super) fn copy_reg(&mut self, op: Operand) -> VReg {
        let dst = self.b.vreg();
        self.b.emit(Inst::Mov { dst, src: op });
        dst
    }
}

/// A decimal or `0x` hexadecimal integer, optionally negative.
fn parse_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// The IR comparison for a comparison operator.
fn comparison(op: BinOp, signed: bool) -> Option<Cmp> {
    Some(match (op, signed) {
        (BinOp::Eq, _) => Cmp::Eq,
        (BinOp::Ne, _) => Cmp::Ne,
        (BinOp::Lt, true) => Cmp::SLt,
        (BinOp::Le, true) => Cmp::SLe,
        (BinOp::Gt, true) => Cmp::SGt,
        (BinOp::Ge, true) => Cmp::SGe,
        (BinOp::Lt, false) => Cmp::ULt,
        (BinOp::Le, false) => Cmp::ULe,
        (BinOp::Gt, false) => Cmp::UGt,
        (BinOp::Ge, false) => Cmp::UGe,
        _ => return None,
    })
}

/// `v` truncated to `size` bytes and extended back to 64 bits.
pub fn truncate(v: i64, size: u8, signed: bool) -> i64 {
    if size >= 8 {
        return v;
    }
    let shift = 64 - u32::from(size) * 8;
    if signed {
        (v << shift) >> shift
    } else {
        ((v as u64) << shift >> shift) as i64
    }
}

/// Constant folding of one ALU operation (None where the result needs runtime rules).
fn fold(op: AluOp, x: i64, y: i64) -> Option<i64> {
    Some(match op {
        AluOp::Add => x.wrapping_add(y),
        AluOp::Sub => x.wrapping_sub(y),
        AluOp::Mul => x.wrapping_mul(y),
        AluOp::And => x & y,
        AluOp::Or => x | y,
        AluOp::Xor => x ^ y,
        AluOp::Shl if (0..64).contains(&y) => x << y,
        AluOp::LShr if (0..64).contains(&y) => ((x as u64) >> y) as i64,
        _ => return None,
    })
}
