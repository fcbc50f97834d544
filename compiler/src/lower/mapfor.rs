//! `for ($kv : @m) { body }` and `len(@m)`, over the `bpf_for_each_map_elem` helper.
//!
//! The loop body becomes a callback (see `callback`) that the helper calls once per
//! entry with pointers to the entry's key and value; `$kv` reads through them: `$kv.0`
//! is the key (a tuple for a map with several key parts), `$kv.1` the value, and `$kv`
//! alone the pair copied into a tuple. Entries come in the kernel's hash order.
//!
//! Only maps of plain values (`@m[k] = v`) can be iterated. The aggregation maps
//! (`count()`, `sum()`, `hist()`...) are per-CPU: the helper would show the body one
//! CPU's share of each entry, not the total the map prints, so they are refused, as are
//! maps without keys.
//!
//! `len(@m)` is the number of entries: what the helper returns when the callback (one per
//! program, shared by every `len`) continues at every entry.

use super::{mentions, Entry, Lower, Val, Var};
use crate::builder::FnBuilder;
use crate::helpers;
use crate::ir::{Arg, Base, Inst, MapId, Operand, VReg};
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::{Block, Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::MapKind;

impl Lower<'_> {
    /// `for ($var : @map) { body }`.
    pub(super) fn for_map(&mut self, var: &str, map: &Expr, body: &Block) {
        let Some((id, key_ty, value_ty)) = self.iterated_map(map) else {
            return;
        };
        let mentions = mentions::of_block(body, &self.module.callables);
        let mut frame = self.callback_frame(&mentions, var);
        let index = self.callback(&mut frame, |l, key, value| {
            let entry = Entry {
                key,
                value,
                key_ty,
                value_ty,
            };
            l.vars.insert(var.to_string(), Var::Entry(entry));
            l.block(body);
        });
        let args = vec![
            Arg::Map(id),
            Arg::Func(index),
            Arg::Slot(frame.slot, 0),
            Arg::Val(Operand::Imm(0)),
        ];
        self.b.call(helpers::FOR_EACH_MAP_ELEM, args);
        self.finish_frame(&frame);
    }

    /// The map a `for` iterates: its id and its key and value types. While learning,
    /// a map not assigned yet stands as an integer-to-integer map.
    fn iterated_map(&mut self, map: &Expr) -> Option<(MapId, Type, Type)> {
        let (name, span) = self.whole_map(map, "for ($kv : @m)")?;
        let Some(sig) = self.known_map(&name, span) else {
            let learning = self.module.learning;
            return learning.then_some((MapId(0), Type::I64, Type::I64));
        };
        if sig.kind != MapKind::Value {
            let msg = format!(
                "for over an aggregation map is not supported; {name} is per-CPU and its entries are only totalled when printed"
            );
            self.error(msg, span, "an aggregation map");
            return None;
        }
        let Some(key) = sig.key.clone() else {
            let msg = format!("for needs a map with keys; {name} holds a single value");
            self.error(msg, span, "a map without keys");
            return None;
        };
        Some((sig.id, key, sig.value.clone()))
    }

    /// The name of `@m` written without keys (`usage` shows the right form).
    fn whole_map(&mut self, map: &Expr, usage: &str) -> Option<(String, Span)> {
        let ExprKind::Map { name, keys } = &map.kind else {
            let msg = format!("expected a map, as in {usage}");
            self.error(msg, map.span, "not a map");
            return None;
        };
        if !keys.is_empty() {
            let msg = format!("this takes a whole map, as in {usage}; remove the key");
            self.error(msg, map.span, "a map entry");
            return None;
        }
        Some((self.map_name(name), map.span))
    }

    /// `$kv.0` / `$kv.1` where `$kv` is a loop entry: the key or value, read through the
    /// helper's pointer. `None` when `base` is not an entry.
    pub(super) fn entry_field(&mut self, base: &Expr, index: u32, span: Span) -> Option<Val> {
        let ExprKind::Variable(name) = &base.kind else {
            return None;
        };
        let Some(Var::Entry(entry)) = self.vars.get(name).cloned() else {
            return None;
        };
        Some(match index {
            0 => self.stored_value(entry.key, 0, &entry.key_ty),
            1 => self.stored_value(entry.value, 0, &entry.value_ty),
            _ => {
                let msg = format!("{name} is a map entry: .0 is its key and .1 its value");
                self.error(msg, span, "no such field");
                Val::zero()
            }
        })
    }

    /// `$kv` as a value: the key and value copied into one tuple.
    pub(super) fn entry_tuple(&mut self, entry: &Entry) -> Val {
        let fields = vec![entry.key_ty.clone(), entry.value_ty.clone()];
        let (offsets, size) = tuple_layout(&fields);
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        let parts = [(entry.key, &entry.key_ty), (entry.value, &entry.value_ty)];
        for ((ptr, ty), offset) in parts.into_iter().zip(offsets) {
            let bytes = stored_len(ty).min(len - offset);
            self.b
                .copy(Base::Slot(slot), offset as i32, Base::Reg(ptr), 0, bytes);
        }
        Val::Bytes(slot, Type::Tuple(fields))
    }

    /// A value of stored type `ty` at `ptr + offset` (inside a map key or value, whose
    /// size is a multiple of 8 bytes).
    fn stored_value(&mut self, ptr: VReg, offset: i32, ty: &Type) -> Val {
        if let Some((size, signed)) = ty.int_parts() {
            let dst = self.b.vreg();
            self.b.emit(Inst::Load {
                dst,
                base: Base::Reg(ptr),
                offset,
                size,
                signed,
            });
            return Val::Scalar(Operand::Reg(dst), ty.clone());
        }
        let slot = self.b.slot(ty.size());
        let len = self.b.slot_size(slot);
        self.b
            .copy(Base::Slot(slot), 0, Base::Reg(ptr), offset, len);
        match ty {
            Type::Str { size } => Val::Str(slot, *size),
            other => Val::Bytes(slot, other.clone()),
        }
    }

    /// `len(@m)`: the number of entries of the map.
    pub(super) fn len(&mut self, args: &[Expr], span: Span) -> Val {
        let [map] = args else {
            self.error("len() takes one map, as in len(@m)", span, "in this call");
            return Val::zero();
        };
        if !matches!(map.kind, ExprKind::Map { .. }) {
            let msg = match self.expr(map).ty() {
                Type::Stack { .. } => "len() of a stack is not supported: a stack is kept as an id into the kernel's stack map, which BPF programs cannot read".to_string(),
                other => format!("len() takes a map, as in len(@m), not {other}"),
            };
            self.error(msg, map.span, "not a map");
            return Val::zero();
        }
        let Some((name, span)) = self.whole_map(map, "len(@m)") else {
            return Val::zero();
        };
        let Some(sig) = self.known_map(&name, span) else {
            return Val::zero();
        };
        if sig.is_bucketed() {
            let msg = format!("len() of a hist() or lhist() map is not supported; {name} holds buckets, not entries");
            self.error(msg, span, "a histogram");
            return Val::zero();
        }
        let index = self.len_callback();
        let args = vec![
            Arg::Map(sig.id),
            Arg::Func(index),
            Arg::Val(Operand::Imm(0)),
            Arg::Val(Operand::Imm(0)),
        ];
        let n = self.b.call(helpers::FOR_EACH_MAP_ELEM, args);
        Val::Scalar(Operand::Reg(n), Type::I64)
    }

    /// The callback of `len()`: continue at every entry.
    fn len_callback(&mut self) -> u32 {
        if let Some(index) = self.len_callback {
            return index;
        }
        let section = crate::ir::CALLBACK_SECTION.to_string();
        let index = self.add_callback(FnBuilder::new().build(String::new(), section));
        self.len_callback = Some(index);
        index
    }
}

/// Bytes a stored value of type `ty` occupies, padding included.
fn stored_len(ty: &Type) -> u32 {
    ty.size().div_ceil(8) * 8
}
