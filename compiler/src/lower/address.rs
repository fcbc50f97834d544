//! Addresses and offsets without reading memory: `&p->field`, `&s.field`, `&*p`, and
//! `offsetof(type, field.field)` (a constant from the struct's layout).

use super::{Lower, Val};
use crate::ir::Operand;
use crate::types::{StructRef, Type};
use ebpfc_parser::ast::{Expr, ExprKind, Spanned, TypeExpr, UnaryOp};
use ebpfc_parser::span::Span;

impl Lower<'_> {
    /// `offsetof(type, a.b)`: the byte offset of the (nested) member.
    pub(super) fn offset_of(&mut self, ty: &TypeExpr, fields: &[Spanned<String>]) -> Val {
        let Some(mut current) = self.resolve_type(ty) else {
            return Val::zero();
        };
        let mut offset = 0;
        for field in fields {
            let Type::Struct(s) = &current else {
                let msg = format!("{current} has no fields");
                self.error(msg, field.span, "not a struct member");
                return Val::zero();
            };
            match self.member_place(s, field) {
                Some((bytes, ty)) => {
                    offset += bytes;
                    current = ty;
                }
                None => return Val::zero(),
            }
        }
        Val::Scalar(Operand::Imm(i64::from(offset)), Type::U64)
    }

    /// `&e`: a pointer to the struct member (or pointee) `e` names, in the same address
    /// space as the struct.
    pub(super) fn address_of(&mut self, inner: &Expr) -> Val {
        match &inner.kind {
            ExprKind::Field { expr, field, .. } => self.member_address(expr, field),
            ExprKind::Unary {
                op: UnaryOp::Deref,
                expr,
            } => match self.expr(expr) {
                pointer @ Val::Scalar(_, Type::Ptr { .. }) => pointer,
                other => self.not_addressable(&other.ty(), inner.span),
            },
            _ => {
                self.error(
                    "'&' takes a struct member (&p->field, &s.field) or a dereferenced pointer",
                    inner.span,
                    "has no address",
                );
                Val::zero()
            }
        }
    }

    fn member_address(&mut self, base: &Expr, field: &Spanned<String>) -> Val {
        let (addr, s, user) = match self.expr(base) {
            Val::Scalar(addr, Type::Ptr { pointee, user }) => match *pointee {
                Type::Struct(s) => (addr, s, user),
                other => return self.not_addressable(&other, base.span),
            },
            Val::Mem {
                addr,
                ty: Type::Struct(s),
                user,
            } => (addr, s, user),
            other => return self.not_addressable(&other.ty(), base.span),
        };
        let Some((offset, ty)) = self.member_place(&s, field) else {
            return Val::zero();
        };
        let at = self.offset(addr, i64::from(offset));
        let pointee = Box::new(ty);
        Val::Scalar(at, Type::Ptr { pointee, user })
    }

    /// The byte offset and type of member `field` of `s`; bitfields have no address.
    fn member_place(&mut self, s: &StructRef, field: &Spanned<String>) -> Option<(u32, Type)> {
        match self.module.types.member(s, &field.node) {
            Ok(m) if m.bits != 0 => {
                let msg = format!("'{}' is a bitfield: it has no address", field.node);
                self.error(msg, field.span, "bitfield");
                None
            }
            Ok(m) => Some((m.offset_bits / 8, m.ty)),
            Err(msg) => {
                self.error(msg, field.span, "unknown field");
                None
            }
        }
    }

    fn not_addressable(&mut self, ty: &Type, span: Span) -> Val {
        let msg = format!("cannot take an address inside {ty}: it is not a struct in memory");
        self.error(msg, span, "not a struct in memory");
        Val::zero()
    }
}
