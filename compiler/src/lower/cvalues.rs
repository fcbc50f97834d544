//! C structs and arrays held as bytes in a stack slot (read back from a map, or a field
//! of a tuple): their members (`@m.x`, bitfields too) and elements (`@a[2]`, constant
//! indices) read from the slot, as `->` and `[]` read them from memory.

use super::memory::bitfield_load_size;
use super::{Lower, Val};
use crate::ir::{Base, Inst, Operand, SlotId};
use crate::types::{StructRef, Type};
use ebpfc_parser::ast::{Expr, Spanned};

impl Lower<'_> {
    /// Member `field` of the struct `s` held at `slot`.
    pub(super) fn slot_member(
        &mut self,
        slot: SlotId,
        s: &StructRef,
        field: &Spanned<String>,
    ) -> Val {
        let member = match self.module.types.member(s, &field.node) {
            Ok(m) => m,
            Err(msg) => {
                self.error(msg, field.span, "unknown field");
                return Val::zero();
            }
        };
        let offset = (member.offset_bits / 8) as i32;
        if member.bits == 0 {
            return self.slot_value(slot, offset, &member.ty);
        }
        let size = bitfield_load_size(member.offset_bits, member.bits);
        let raw = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: raw,
            base: Base::Slot(slot),
            offset,
            size,
            signed: false,
        });
        self.extract_bits(raw, member.offset_bits % 8, member.bits, &member.ty)
    }

    /// Element `index` (a constant in range) of the array of `len` `elem`s at `slot`.
    pub(super) fn slot_element(
        &mut self,
        slot: SlotId,
        elem: &Type,
        len: u32,
        index: &Expr,
    ) -> Val {
        let Some(i) = self
            .const_int(index)
            .filter(|i| (0..i64::from(len)).contains(i))
        else {
            let msg = format!(
                "an index into a copied {elem}[{len}] must be a constant from 0 to {}",
                len.saturating_sub(1)
            );
            self.error(msg, index.span, "bad index");
            return Val::zero();
        };
        self.slot_value(slot, i as i32 * elem.size() as i32, elem)
    }

    /// The value of type `ty` at `offset` in `slot`: integers and pointers loaded,
    /// strings, structs and arrays copied to a slot of their own.
    pub(super) fn slot_value(&mut self, slot: SlotId, offset: i32, ty: &Type) -> Val {
        let (size, signed) = match ty {
            Type::Int { .. } | Type::Bool => ty.int_parts().unwrap_or((8, false)),
            Type::Ptr { .. } => (8, false),
            Type::Array { elem, len } if elem.is_char() => {
                let own = self.copied(slot, offset, *len, len + 1);
                return Val::Str(own, *len);
            }
            other => {
                let own = self.copied(slot, offset, other.size(), other.size());
                return Val::Bytes(own, other.clone());
            }
        };
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset,
            size,
            signed,
        });
        Val::Scalar(Operand::Reg(dst), ty.clone())
    }

    /// A new slot of `room` bytes holding the `len` bytes at `offset` in `slot`, then zeros.
    pub(super) fn copied(&mut self, slot: SlotId, offset: i32, len: u32, room: u32) -> SlotId {
        let own = self.b.slot(room);
        let total = self.b.slot_size(own);
        self.b
            .copy(Base::Slot(own), 0, Base::Slot(slot), offset, len);
        self.b.zero(Base::Slot(own), len as i32, total - len);
        own
    }
}
