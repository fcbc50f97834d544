//! Builtins that keep a raw value in the record and leave its text to the runtime:
//! `strerror(errno)`, `cgroup_path(id [, filter])` and `macaddr(bytes)`. Their record
//! layouts are those of `ebpfc_stdlib::meta::Ty::{Errno, CgroupPath, Mac}`.

use super::{Lower, Val};
use crate::ir::{Base, Inst, Operand};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;

/// Bytes in a MAC address.
const MAC_LEN: u32 = 6;

impl Lower<'_> {
    /// The functions of this module; `None` when `name` is not one of them.
    pub(super) fn userfmt_function(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Option<Val> {
        Some(match name {
            "strerror" => self.strerror(args, span),
            "cgroup_path" => self.cgroup_path(args, span),
            "macaddr" => self.macaddr(args, span),
            _ => return None,
        })
    }

    /// An 8-byte slot holding `value`, typed `ty`.
    pub(super) fn word_value(&mut self, value: Operand, ty: Type) -> Val {
        let slot = self.b.slot(8);
        self.b.emit(Inst::Store {
            base: Base::Slot(slot),
            offset: 0,
            size: 8,
            value,
        });
        Val::Bytes(slot, ty)
    }

    /// `strerror(n)`: the errno `n`, printed as its message.
    fn strerror(&mut self, args: &[Expr], span: Span) -> Val {
        let [errno] = args else {
            self.error("strerror() takes 1 argument", span, "in this call");
            return Val::Void;
        };
        let value = self.int_operand(errno);
        self.word_value(value, Type::Errno)
    }

    /// `cgroup_path(id [, "filter"])`: the cgroup id, printed as its paths in the
    /// hierarchies whose names match the wildcard filter.
    fn cgroup_path(&mut self, args: &[Expr], span: Span) -> Val {
        let (id, filter) = match args {
            [id] => (id, "*".to_string()),
            [id, filter] => match &filter.kind {
                ExprKind::Str(text) => (id, text.clone()),
                _ => {
                    let msg = "cgroup_path() filter must be a string literal";
                    self.error(msg, filter.span, "not a literal");
                    return Val::Void;
                }
            },
            _ => {
                self.error("cgroup_path() takes 1 or 2 arguments", span, "in this call");
                return Val::Void;
            }
        };
        let value = self.int_operand(id);
        let index = self.module.strings.len() as u32;
        self.module.strings.push(filter);
        self.word_value(value, Type::CgroupPath { filter: index })
    }

    /// `macaddr(mac)`: six bytes from an array or a pointer, printed `AA:BB:CC:DD:EE:FF`.
    fn macaddr(&mut self, args: &[Expr], span: Span) -> Val {
        let [arg] = args else {
            self.error("macaddr() takes 1 argument", span, "in this call");
            return Val::Void;
        };
        let value = self.expr(arg);
        let slot = self.b.slot(8);
        self.b.zero(Base::Slot(slot), 0, 8);
        let (addr, user) = match value {
            Val::Str(src, MAC_LEN) => {
                self.b.copy(Base::Slot(slot), 0, Base::Slot(src), 0, 8);
                return Val::Bytes(slot, Type::Mac);
            }
            Val::Mem { addr, ty, user } if ty.size() == MAC_LEN => (addr, user),
            Val::Scalar(addr, Type::Ptr { user, .. }) => (addr, user),
            other => {
                let msg = format!(
                    "macaddr() needs a 6-byte array or a pointer, found {}",
                    other.ty()
                );
                self.error(msg, arg.span, "not a MAC address");
                return Val::Void;
            }
        };
        self.read_into(
            (Base::Slot(slot), 0),
            Operand::Imm(i64::from(MAC_LEN)),
            addr,
            user,
        );
        Val::Bytes(slot, Type::Mac)
    }
}
