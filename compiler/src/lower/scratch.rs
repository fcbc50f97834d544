//! Records too big for the 512-byte BPF stack are built in a per-CPU scratch buffer (a
//! one-entry per-CPU array) and sent from there: `join()`, and printf calls with many
//! or long arguments (each argument is stored as soon as it is computed, so its own
//! buffer is free again before the next one is made).

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, VReg};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::{Field, Format, EVENT_JOIN, EVENT_PRINTF, JOIN_ARGS, JOIN_ARG_SIZE};

/// Bytes of the `join()` record: id, separator index, count, then the strings.
const JOIN_RECORD: u32 = 24 + JOIN_ARGS * JOIN_ARG_SIZE;

impl Lower<'_> {
    /// The scratch buffer of at least `size` bytes, or `None` on the path where the
    /// lookup failed (then the current block is the one after `done`).
    pub(super) fn scratch(&mut self, size: u32, done: crate::ir::BlockId) -> VReg {
        self.module.scratch_size = self.module.scratch_size.max(size);
        let ptr = self.lookup_first(self.module.scratch_map);
        let found = self.fresh_block();
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        ptr
    }

    /// `join(argv [, sep])`: prints the strings of a NULL-terminated array of pointers.
    pub(super) fn join(&mut self, args: &[Expr], span: Span) -> Val {
        let sep = match args.get(1).map(|a| &a.kind) {
            None => " ".to_string(),
            Some(ExprKind::Str(s)) => s.clone(),
            Some(_) => {
                self.error(
                    "join() separator must be a string literal",
                    args[1].span,
                    "here",
                );
                return Val::Void;
            }
        };
        if args.is_empty() || args.len() > 2 {
            self.error(
                "join() takes an array of strings and an optional separator",
                span,
                "in this call",
            );
            return Val::Void;
        }
        let (array, user) = match self.expr(&args[0]) {
            Val::Scalar(op, Type::Ptr { user, .. }) => (op, user),
            Val::Scalar(op, _) => (op, self.user_pointers()),
            other => {
                let msg = format!(
                    "join() needs a pointer to an array of strings, found {}",
                    other.ty()
                );
                self.error(msg, args[0].span, "not a pointer");
                return Val::Void;
            }
        };
        let sep_index = self.module.strings.len() as i64;
        self.module.strings.push(sep);
        let done = self.fresh_block();
        let buf = self.scratch(JOIN_RECORD, done);
        let store = |l: &mut Self, offset: i32, value: Operand| {
            l.b.emit(Inst::Store {
                base: Base::Reg(buf),
                offset,
                size: 8,
                value,
            });
        };
        store(self, 0, Operand::Imm(EVENT_JOIN as i64));
        store(self, 8, Operand::Imm(sep_index));
        store(self, 16, Operand::Imm(0));
        let send = self.fresh_block();
        self.join_elements(buf, array, user, send);
        self.b.switch_to(send);
        let args = vec![
            Arg::Map(self.module.ringbuf),
            Arg::Val(Operand::Reg(buf)),
            Arg::Val(Operand::Imm(i64::from(JOIN_RECORD))),
            Arg::Val(Operand::Imm(0)),
        ];
        self.module.uses_ringbuf = true;
        self.b.call(helpers::RINGBUF_OUTPUT, args);
        self.b.jump_to(done);
        Val::Void
    }

    /// Copies up to [`JOIN_ARGS`] strings into the record at `buf`, stopping at the
    /// first NULL pointer; then continues at `send`.
    fn join_elements(&mut self, buf: VReg, array: Operand, user: bool, send: crate::ir::BlockId) {
        let (read, read_str) = if user {
            (helpers::PROBE_READ_USER, helpers::PROBE_READ_USER_STR)
        } else {
            (helpers::PROBE_READ_KERNEL, helpers::PROBE_READ_KERNEL_STR)
        };
        let ptr_slot = self.b.slot(8);
        let array = self.b.reg(array);
        for i in 0..JOIN_ARGS {
            let at = self.b.vreg();
            self.b.emit(Inst::Alu {
                dst: at,
                op: AluOp::Add,
                lhs: array,
                rhs: Operand::Imm(i64::from(i * 8)),
            });
            self.b.emit(Inst::Store {
                base: Base::Slot(ptr_slot),
                offset: 0,
                size: 8,
                value: Operand::Imm(0),
            });
            self.b.call(
                read,
                vec![
                    Arg::Slot(ptr_slot, 0),
                    Arg::Val(Operand::Imm(8)),
                    Arg::Val(Operand::Reg(at)),
                ],
            );
            let p = self.b.vreg();
            self.b.emit(Inst::Load {
                dst: p,
                base: Base::Slot(ptr_slot),
                offset: 0,
                size: 8,
                signed: false,
            });
            let next = self.fresh_block();
            self.b.branch(Cmp::Ne, p, Operand::Imm(0), next, send);
            let dst = self.b.vreg();
            let offset = i64::from(24 + i * JOIN_ARG_SIZE);
            self.b.emit(Inst::Alu {
                dst,
                op: AluOp::Add,
                lhs: buf,
                rhs: Operand::Imm(offset),
            });
            let size = Operand::Imm(i64::from(JOIN_ARG_SIZE));
            self.b.call(
                read_str,
                vec![
                    Arg::Val(Operand::Reg(dst)),
                    Arg::Val(size),
                    Arg::Val(Operand::Reg(p)),
                ],
            );
            self.b.emit(Inst::Store {
                base: Base::Reg(buf),
                offset: 16,
                size: 8,
                value: Operand::Imm(i64::from(i + 1)),
            });
        }
        self.b.jump_to(send);
    }

    /// `printf` built in the scratch buffer, one argument at a time.
    pub(super) fn printf_in_scratch(
        &mut self,
        template: &str,
        fmt: &Expr,
        args: &[Expr],
        system: bool,
    ) -> Val {
        let index = self.module.formats.len();
        let id = EVENT_PRINTF + index as u64;
        let done = self.fresh_block();
        let buf = self.scratch(8, done);
        let base = Base::Reg(buf);
        self.b.emit(Inst::Store {
            base,
            offset: 0,
            size: 8,
            value: Operand::Imm(id as i64),
        });
        let (mut vals, mut fields, mut end) = (Vec::new(), Vec::new(), 8u32);
        for a in args {
            let v = self.expr(a);
            let ty = v.ty().widened();
            let align = ty.align().max(1);
            let offset = end.div_ceil(align) * align;
            self.b.zero(base, end as i32, offset - end);
            self.store_val(base, offset as i32, &v, &ty);
            end = offset + ty.size();
            fields.push(Field {
                offset,
                ty: ty.to_meta(&self.module.types),
            });
            vals.push(v);
        }
        let size = end.div_ceil(8) * 8;
        self.b.zero(base, end as i32, size - end);
        self.module.scratch_size = self.module.scratch_size.max(size);
        if let Err(msg) = super::calls::check_format(template, &vals) {
            self.error(msg, fmt.span, "this format");
        }
        self.module.formats.push(Format {
            template: template.to_string(),
            args: fields,
            system,
            stderr_prefix: None,
            value: false,
            cat: false,
        });
        self.output_from(Arg::Val(Operand::Reg(buf)), size);
        self.b.jump_to(done);
        Val::Void
    }
}
