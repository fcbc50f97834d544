//! Strings: literals, equality and `strncmp`, copies out of tracepoint records
//! (inline arrays and `__data_loc`), `str()` reads from kernel or user memory, and
//! string-valued ternaries.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, SlotId, VReg};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;

impl Lower<'_> {
    /// A string literal in a fresh, zero-padded slot.
    pub(super) fn str_literal(&mut self, s: &str) -> Val {
        let bytes = &ebpfc_stdlib::bytes::literal_bytes(s);
        let size = bytes.len() as u32 + 1;
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot) as usize;
        let mut padded = bytes.to_vec();
        padded.resize(len, 0);
        for (i, chunk) in padded.chunks(4).enumerate() {
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let value = Operand::Imm(i64::from(word as i32));
            self.b.emit(Inst::Store {
                base: Base::Slot(slot),
                offset: i as i32 * 4,
                size: 4,
                value,
            });
        }
        Val::Str(slot, size)
    }

    /// 1 if two strings are equal (up to their NUL), else 0.
    pub(super) fn str_equal(&mut self, a: &Val, b: &Val, _rhs: &Expr) -> VReg {
        self.str_prefix_equal(a, b, u32::MAX)
    }

    /// 1 if the first `limit` bytes of two strings (up to their NUL) are equal, else 0.
    fn str_prefix_equal(&mut self, a: &Val, b: &Val, limit: u32) -> VReg {
        let (Val::Str(sa, na), Val::Str(sb, nb)) = (a, b) else {
            unreachable!("checked by caller")
        };
        let (na, nb) = (&(*na).min(limit), &(*nb).min(limit));
        let result = self.b.var(Operand::Imm(0));
        let (equal, done) = (self.fresh_block(), self.fresh_block());
        let n = (*na).min(*nb);
        for i in 0..n as i32 {
            let x = self.load_byte(*sa, i);
            let y = self.load_byte(*sb, i);
            let (same, next) = (self.fresh_block(), self.fresh_block());
            self.b.branch(Cmp::Eq, x, Operand::Reg(y), same, done);
            self.b.branch(Cmp::Ne, x, Operand::Imm(0), next, equal);
        }
        let (longer, len) = if na > nb { (*sa, *na) } else { (*sb, *nb) };
        if n < len {
            let x = self.load_byte(longer, n as i32);
            self.b.branch(Cmp::Eq, x, Operand::Imm(0), equal, done);
        } else {
            self.b.jump_to(equal);
        }
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(1),
        });
        self.b.jump_to(done);
        result
    }

    fn load_byte(&mut self, slot: SlotId, offset: i32) -> VReg {
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset,
            size: 1,
            signed: false,
        });
        dst
    }

    /// Copies `len` bytes at `ctx + offset` into a fresh string slot.
    pub(super) fn read_ctx_bytes(&mut self, offset: u32, len: u32) -> Val {
        let slot = self.b.slot(len + 1);
        let size = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, size);
        let ctx = self.ctx;
        self.read_opaque(slot, ctx, offset as i32, len);
        Val::Str(slot, len)
    }

    /// A `__data_loc char[]` field: the string lives at `ctx + (loc & 0xffff)`.
    pub(super) fn read_data_loc(&mut self, offset: u32) -> Val {
        let loc = self.b.vreg();
        let ctx = self.ctx;
        self.b.emit(Inst::Load {
            dst: loc,
            base: Base::Reg(ctx),
            offset: offset as i32,
            size: 4,
            signed: false,
        });
        let src = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::And,
            lhs: loc,
            rhs: Operand::Imm(0xffff),
        });
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::Add,
            lhs: src,
            rhs: Operand::Reg(ctx),
        });
        let size = self.module.str_size;
        self.read_str_from(
            Operand::Reg(src),
            Operand::Imm(i64::from(size)),
            size,
            false,
        )
    }

    /// `str(ptr [, len])`.
    pub(super) fn str_call(&mut self, args: &[Expr], span: Span) -> Val {
        if args.is_empty() || args.len() > 2 {
            self.error(
                "str() takes a pointer and an optional length",
                span,
                "in this call",
            );
            return Val::Void;
        }
        if let ExprKind::Positional(n) = &args[0].kind {
            let text = self
                .module
                .params
                .get(*n as usize - 1)
                .cloned()
                .unwrap_or_default();
            let Val::Str(slot, size) = self.str_literal(&text) else {
                unreachable!("a literal is a string")
            };
            return self.truncated(slot, size, args.get(1));
        }
        let value = self.expr(&args[0]);
        let (ptr, ty) = match value {
            Val::Str(slot, size) => return self.truncated(slot, size, args.get(1)),
            Val::Scalar(op, ty) => (op, ty),
            other => {
                self.error(
                    format!("str() needs a pointer, found {}", other.ty()),
                    args[0].span,
                    "not a pointer",
                );
                return Val::Void;
            }
        };
        let user = match &ty {
            Type::Ptr { user, .. } => *user,
            _ => self.user_pointers(),
        };
        let max = self.module.str_size;
        let Some(len_expr) = args.get(1) else {
            return self.read_str_from(ptr, Operand::Imm(i64::from(max)), max, user);
        };
        match self.const_int(len_expr) {
            Some(n) if n > 0 => {
                let size = (n as u32).min(max - 1) + 1;
                self.read_str_from(ptr, Operand::Imm(i64::from(size)), size, user)
            }
            Some(_) => {
                self.error("str() length must be positive", len_expr.span, "here");
                Val::Void
            }
            None => {
                // At most `max - 1` characters and the NUL.
                let n = self.int_operand(len_expr);
                let n = self.clamp(n, max - 1);
                let size = self.b.vreg();
                self.b.emit(Inst::Alu {
                    dst: size,
                    op: AluOp::Add,
                    lhs: n,
                    rhs: Operand::Imm(1),
                });
                self.read_str_from(ptr, Operand::Reg(size), max, user)
            }
        }
    }

    /// `str(s, n)` of a string: its first `n` bytes, else (no `n`) the string.
    fn truncated(&mut self, slot: SlotId, size: u32, len: Option<&Expr>) -> Val {
        let Some(len) = len else {
            return Val::Str(slot, size);
        };
        let Some(n) = self.const_int(len) else {
            let n = self.int_operand(len);
            return self.truncated_at_run_time(slot, size, n);
        };
        let n = (n.max(0) as u32).min(size);
        let own = self.b.slot(n + 1);
        let total = self.b.slot_size(own);
        self.b.zero(Base::Slot(own), 0, total);
        for i in 0..n as i32 {
            let byte = self.load_byte(slot, i);
            self.b.emit(Inst::Store {
                base: Base::Slot(own),
                offset: i,
                size: 1,
                value: Operand::Reg(byte),
            });
        }
        Val::Str(own, n + 1)
    }

    /// [`Self::truncated`] when `n` is known only when the probe runs: every byte at
    /// or past `n` is masked to NUL (no branches for the verifier to walk).
    fn truncated_at_run_time(&mut self, slot: SlotId, size: u32, n: Operand) -> Val {
        let n = self.b.reg(n);
        let own = self.b.slot(size);
        let total = self.b.slot_size(own);
        self.b.zero(Base::Slot(own), 0, total);
        for i in 0..size.saturating_sub(1) as i32 {
            let byte = self.load_byte(slot, i);
            let (keep, mask, kept) = (self.b.vreg(), self.b.vreg(), self.b.vreg());
            self.b.emit(Inst::Set {
                dst: keep,
                cond: Cmp::SGt,
                lhs: n,
                rhs: Operand::Imm(i64::from(i)),
            });
            self.b.emit(Inst::Neg {
                dst: mask,
                src: keep,
            });
            self.b.emit(Inst::Alu {
                dst: kept,
                op: AluOp::And,
                lhs: byte,
                rhs: Operand::Reg(mask),
            });
            self.b.emit(Inst::Store {
                base: Base::Slot(own),
                offset: i,
                size: 1,
                value: Operand::Reg(kept),
            });
        }
        Val::Str(own, size)
    }

    /// The most bytes a string literal (NUL included) or a `buf()` may hold: the
    /// configured string size, and at least bpftrace's default 64.
    pub(super) fn string_capacity(&self) -> u32 {
        self.module.str_size.max(crate::settings::STRING_SIZE)
    }

    /// Untyped pointers of syscall tracepoints, uprobes and USDT point into user memory.
    pub(super) fn user_pointers(&self) -> bool {
        match &self.target.attach {
            meta::Attach::Tracepoint { category, .. } => category == "syscalls",
            meta::Attach::Uprobe { .. } | meta::Attach::Usdt { .. } => true,
            _ => false,
        }
    }

    /// Reads a NUL-terminated string of at most `len` bytes (NUL included; a constant or
    /// a register bounded by `size`) at `ptr` into a string of `size` bytes.
    fn read_str_from(&mut self, ptr: Operand, len: Operand, size: u32, user: bool) -> Val {
        let slot = self.b.slot(size);
        let total = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, total);
        let helper = if user {
            helpers::PROBE_READ_USER_STR
        } else {
            helpers::PROBE_READ_KERNEL_STR
        };
        let args = vec![Arg::Slot(slot, 0), Arg::Val(len), Arg::Val(ptr)];
        self.b.call(helper, args);
        Val::Str(slot, size)
    }

    /// `strncmp(a, b, n)`: 0 when the first `n` bytes (a constant) are equal, else 1.
    pub(super) fn strncmp(&mut self, args: &[Expr], span: Span) -> Val {
        let [a, b, n] = args else {
            self.error(
                "strncmp() takes two strings and a length",
                span,
                "in this call",
            );
            return Val::zero();
        };
        let (x, y) = (self.expr(a), self.expr(b));
        let Some(limit) = self.const_int(n).filter(|n| *n >= 0) else {
            self.error(
                "strncmp() length must be a non-negative integer literal",
                n.span,
                "here",
            );
            return Val::zero();
        };
        if !matches!((&x, &y), (Val::Str(..), Val::Str(..))) {
            let msg = format!(
                "strncmp() compares strings, found {} and {}",
                x.ty(),
                y.ty()
            );
            self.error(msg, span, "in this call");
            return Val::zero();
        }
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let equal = self.str_prefix_equal(&x, &y, limit);
        let dst = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst,
            op: AluOp::Xor,
            lhs: equal,
            rhs: Operand::Imm(1),
        });
        Val::Scalar(Operand::Reg(dst), Type::I64)
    }

    /// `c ? "a" : "b"` where the `then` arm (current block) gave string `then`; the
    /// `otherwise` arm is lowered in block `f`; both copy into one slot, then `done`.
    pub(super) fn string_ternary(
        &mut self,
        then: (SlotId, u32),
        otherwise: &Expr,
        f: crate::ir::BlockId,
        done: crate::ir::BlockId,
    ) -> Val {
        let copy_then = self.fresh_block();
        self.b.finish(crate::ir::Term::Jump(copy_then), f);
        let Val::Str(other, other_size) = self.expr(otherwise) else {
            self.error(
                "both arms of this ternary must be strings",
                otherwise.span,
                "not a string",
            );
            self.b.jump_to(copy_then);
            self.b.jump_to(done);
            return Val::zero();
        };
        let size = then.1.max(other_size);
        let dst = self.b.slot(size);
        self.copy_string(dst, other, other_size);
        self.b.finish(crate::ir::Term::Jump(done), copy_then);
        self.copy_string(dst, then.0, then.1);
        self.b.jump_to(done);
        Val::Str(dst, size)
    }

    /// Copies string `src` of `size` bytes into `dst`, zero-filling the rest of `dst`.
    fn copy_string(&mut self, dst: SlotId, src: SlotId, size: u32) {
        let total = self.b.slot_size(dst);
        let len = self.b.slot_size(src).min(total).min(size.div_ceil(8) * 8);
        self.b.copy(Base::Slot(dst), 0, Base::Slot(src), 0, len);
        self.b.zero(Base::Slot(dst), len as i32, total - len);
    }

    /// `strlen(s)`: the bytes before the string's NUL (its whole size if it has none).
    /// Unrolled: one compare per byte, the first NUL ends the scan.
    pub(super) fn strlen(&mut self, args: &[Expr], span: Span) -> Val {
        let [arg] = args else {
            self.error("strlen() takes one string", span, "in this call");
            return Val::zero();
        };
        let Val::Str(slot, size) = self.expr(arg) else {
            self.error("strlen() needs a string", arg.span, "not a string");
            return Val::zero();
        };
        let result = self.b.var(Operand::Imm(i64::from(size)));
        let done = self.fresh_block();
        for i in 0..size {
            let (found, next) = (self.fresh_block(), self.fresh_block());
            let byte = self.load_byte(slot, i as i32);
            self.b.branch(Cmp::Eq, byte, Operand::Imm(0), found, next);
            self.b.emit(Inst::Mov {
                dst: result,
                src: Operand::Imm(i64::from(i)),
            });
            self.b.finish(crate::ir::Term::Jump(done), next);
        }
        self.b.jump_to(done);
        Val::Scalar(Operand::Reg(result), Type::U64)
    }

    /// `strcontains(haystack, needle)`: whether `needle` occurs in `haystack`.
    pub(super) fn strcontains(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(index) = self.substring_index("strcontains", args, span) else {
            return Val::zero();
        };
        let dst = self.b.vreg();
        self.b.emit(Inst::Set {
            dst,
            cond: Cmp::Ne,
            lhs: index,
            rhs: Operand::Imm(-1),
        });
        Val::Scalar(Operand::Reg(dst), Type::Bool)
    }

    /// The index of the first occurrence of string `args[1]` in string `args[0]`, or -1.
    /// Unrolled: every start position against every needle byte (a literal needle's
    /// bytes are compared as constants).
    fn substring_index(&mut self, name: &str, args: &[Expr], span: Span) -> Option<VReg> {
        let [hay, needle] = args else {
            let msg = format!("{name}() takes a string and the string to find");
            self.error(msg, span, "in this call");
            return None;
        };
        let literal = match &needle.kind {
            ebpfc_parser::ast::ExprKind::Str(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        };
        let (h, n) = (self.expr(hay), self.expr(needle));
        let (Val::Str(hs, hsize), Val::Str(ns, nsize)) = (h, n) else {
            self.error(format!("{name}() needs two strings"), span, "in this call");
            return None;
        };
        let result = self.b.var(Operand::Imm(-1));
        let done = self.fresh_block();
        let needle_len = literal.as_ref().map_or(nsize, |l| l.len() as u32);
        for i in 0..hsize {
            let (found, next) = (self.fresh_block(), self.fresh_block());
            let mut cut = false;
            for j in 0..needle_len {
                let want = match &literal {
                    Some(bytes) => Operand::Imm(i64::from(bytes[j as usize])),
                    None => {
                        let b = self.load_byte(ns, j as i32);
                        let more = self.fresh_block();
                        self.b.branch(Cmp::Ne, b, Operand::Imm(0), more, found);
                        Operand::Reg(b)
                    }
                };
                if i + j >= hsize {
                    self.b.jump_to(next);
                    cut = true;
                    break;
                }
                let got = self.load_byte(hs, (i + j) as i32);
                let same = self.fresh_block();
                self.b.branch(Cmp::Eq, got, want, same, next);
            }
            if !cut {
                self.b.jump_to(found);
            }
            self.b.finish(crate::ir::Term::Jump(done), found);
            self.b.emit(Inst::Mov {
                dst: result,
                src: Operand::Imm(i64::from(i)),
            });
            self.b.finish(crate::ir::Term::Jump(done), next);
            let at = self.load_byte(hs, i as i32);
            let more = self.fresh_block();
            self.b.branch(Cmp::Ne, at, Operand::Imm(0), more, done);
        }
        self.b.jump_to(done);
        Some(result)
    }
}
