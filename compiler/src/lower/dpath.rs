//! `path(p)`: the text of a `struct path`, from the kernel's `d_path` helper. The helper
//! takes only pointers whose BTF type the verifier knows, so its argument is evaluated
//! here apart from ordinary expressions: an fentry/fexit argument or an iterator's
//! `ctx`, then `->` and `.` through members, read with plain loads (each pointer checked
//! for NULL first, which skips the call) instead of `probe_read`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{Arg, Base, BlockId, Cmp, Inst, Operand};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::Attach;

impl Lower<'_> {
    /// `path(p)` for `p` a `struct path *` or a `struct path` member; an empty string
    /// when a pointer on the way is NULL.
    pub(super) fn path_call(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(arg) = args.first() else {
            self.error("path() takes a struct path", span, "in this call");
            return Val::Void;
        };
        let size = self.module.str_size;
        let slot = self.b.slot(size);
        let room = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, room);
        let done = self.fresh_block();
        match self.btf_value(arg, done) {
            Some((ptr, Type::Ptr { pointee, .. })) if is_path(&pointee) => {
                let ptr = self.non_null(ptr, done);
                self.d_path(ptr, slot, size);
            }
            Some((addr, ty)) if is_path(&ty) => self.d_path(addr, slot, size),
            found => {
                let what = found.map_or("an expression".to_string(), |(_, ty)| ty.to_string());
                let msg = format!(
                    "path() needs a struct path reached from a function argument or an iterator's ctx (as in args->path or ctx->file->f_path), found {what}"
                );
                self.error(msg, arg.span, "not a struct path the kernel can resolve");
            }
        }
        self.b.jump_to(done);
        Val::Str(slot, size)
    }

    fn d_path(&mut self, path: Operand, slot: crate::ir::SlotId, size: u32) {
        let args = vec![
            Arg::Val(path),
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(size))),
        ];
        self.b.call(helpers::D_PATH, args);
    }

    /// `expr` as the verifier sees it: a pointer value (typed [`Type::Ptr`]) or the
    /// address of a struct inside another (typed [`Type::Struct`]); `None` for anything
    /// else. NULL pointers on the way jump to `null`.
    fn btf_value(&mut self, expr: &Expr, null: BlockId) -> Option<(Operand, Type)> {
        match &expr.kind {
            ExprKind::Ident(name) if name == "ctx" => match self.iter_ctx()? {
                Val::Scalar(op, ty @ Type::Ptr { .. }) => Some((op, ty)),
                _ => None,
            },
            ExprKind::Field {
                expr: base, field, ..
            } if matches!(&base.kind, ExprKind::Ident(n) if n == "args")
                && matches!(self.target.attach, Attach::Fentry { .. }) =>
            {
                let params = self.typed_args(field.span);
                let i = params.iter().position(|(n, _)| *n == field.node)?;
                let ty = params[i].1.clone();
                match self.ctx_arg(i, &ty) {
                    Val::Scalar(op, ty @ Type::Ptr { .. }) => Some((op, ty)),
                    _ => None,
                }
            }
            ExprKind::Field {
                expr: base,
                field,
                arrow,
            } => {
                let (at, ty) = self.btf_value(base, null)?;
                let (addr, s) = match (ty, arrow) {
                    (Type::Ptr { pointee, .. }, true) => match *pointee {
                        Type::Struct(s) => (self.non_null(at, null), s),
                        _ => return None,
                    },
                    (Type::Struct(s), false) => (at, s),
                    _ => return None,
                };
                let member = self.module.types.member(&s, &field.node).ok()?;
                let offset = (member.offset_bits / 8) as i32;
                self.btf_member(addr, offset, member.ty)
            }
            _ => None,
        }
    }

    /// The member of type `ty` at `offset` from `addr`: a pointer loaded, or an
    /// embedded struct's address.
    fn btf_member(&mut self, addr: Operand, offset: i32, ty: Type) -> Option<(Operand, Type)> {
        match ty {
            Type::Ptr { .. } => {
                let base = self.b.reg(addr);
                let dst = self.b.vreg();
                self.b.emit(Inst::Load {
                    dst,
                    base: Base::Reg(base),
                    offset,
                    size: 8,
                    signed: false,
                });
                Some((Operand::Reg(dst), ty))
            }
            Type::Struct(_) => Some((self.offset(addr, i64::from(offset)), ty)),
            _ => None,
        }
    }

    /// `ptr`, after a check that jumps to `null` when it is NULL (the context pointer
    /// never is).
    fn non_null(&mut self, ptr: Operand, null: BlockId) -> Operand {
        if ptr == Operand::Reg(self.ctx) {
            return ptr;
        }
        let reg = self.b.reg(ptr);
        let ok = self.fresh_block();
        self.b.branch(Cmp::Ne, reg, Operand::Imm(0), ok, null);
        Operand::Reg(reg)
    }
}

fn is_path(ty: &Type) -> bool {
    matches!(ty, Type::Struct(s) if s.name == "struct path")
}
