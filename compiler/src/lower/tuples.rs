//! Tuples as values — `(1, "a")` built in a stack slot with the layout of
//! [`tuple_layout`], `t.0` reading one field back — and `print(value)`.

use super::{Lower, Val};
use crate::ir::{Base, Inst, Operand};
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::Expr;
use ebpfc_parser::span::Span;

impl Lower<'_> {
    /// `(a, b, ...)`: every element stored at its offset in one slot.
    pub(super) fn tuple(&mut self, elems: &[Expr]) -> Val {
        let vals: Vec<Val> = elems.iter().map(|e| self.expr(e)).collect();
        for (v, e) in vals.iter().zip(elems) {
            if matches!(v, Val::Void | Val::Args | Val::Mem { .. }) {
                let msg = format!("a tuple cannot hold {}", v.ty());
                self.error(msg, e.span, "not a value");
                return Val::zero();
            }
        }
        let types: Vec<Type> = vals.iter().map(|v| v.ty().widened()).collect();
        let (offsets, size) = tuple_layout(&types);
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        for ((val, ty), off) in vals.iter().zip(&types).zip(offsets) {
            self.store_val(Base::Slot(slot), off as i32, val, ty);
        }
        Val::Bytes(slot, Type::Tuple(types))
    }

    /// `t.N`: field `N` of a tuple value.
    pub(super) fn tuple_index(&mut self, base: &Expr, index: u32, span: Span) -> Val {
        if let Some(field) = self.entry_field(base, index, span) {
            return field;
        }
        let (slot, fields) = match self.expr(base) {
            Val::Bytes(slot, Type::Tuple(fields)) => (slot, fields),
            other => {
                let msg = format!("{} is not a tuple", other.ty());
                self.error(msg, base.span, "not a tuple");
                return Val::zero();
            }
        };
        let Some(ty) = fields.get(index as usize).cloned() else {
            let msg = format!("the tuple has {} fields; .{index} is not one", fields.len());
            self.error(msg, span, "no such field");
            return Val::zero();
        };
        let offset = tuple_layout(&fields).0[index as usize] as i32;
        match ty {
            Type::Int { size, signed } => {
                let dst = self.b.vreg();
                self.b.emit(Inst::Load {
                    dst,
                    base: Base::Slot(slot),
                    offset,
                    size,
                    signed,
                });
                Val::Scalar(Operand::Reg(dst), ty)
            }
            other => {
                let size = other.size();
                let own = self.b.slot(size);
                let len = self.b.slot_size(own);
                self.b.copy(
                    Base::Slot(own),
                    0,
                    Base::Slot(slot),
                    offset,
                    size.div_ceil(8) * 8,
                );
                self.b.zero(
                    Base::Slot(own),
                    (size.div_ceil(8) * 8) as i32,
                    len - size.div_ceil(8) * 8,
                );
                match other {
                    Type::Str { size } => Val::Str(own, size),
                    other => Val::Bytes(own, other),
                }
            }
        }
    }

    /// `print(value)`: the value on a line of its own, as a map value prints.
    pub(super) fn print_value(&mut self, args: &[Expr], span: Span) {
        let [arg] = args else {
            self.error(
                "print() of a value takes just the value",
                span,
                "in this call",
            );
            return;
        };
        let val = self.expr(arg);
        let template = match val.ty() {
            Type::Int { signed: true, .. } => "%d\n",
            Type::Int { .. } | Type::Ptr { .. } => "%u\n",
            Type::Void | Type::Args | Type::Struct(_) | Type::Array { .. } => {
                let msg = format!("print() cannot print {}", val.ty());
                self.error(msg, arg.span, "no printable value");
                return;
            }
            _ => "%s\n",
        };
        self.printf_vals(template.to_string(), &[val], false);
    }
}
