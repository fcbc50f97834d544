//! Tuples as values — `(1, "a")` built in a stack slot with the layout of
//! [`tuple_layout`], `t.0` reading one field back — records (`(x = 1, y = "a")`, tuples
//! whose fields have names, read back with `r.x`), and `print(value)`.

use super::{Lower, Val};
use crate::ir::{Base, SlotId};
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::{Expr, Spanned};
use ebpfc_parser::span::Span;

impl Lower<'_> {
    /// `(x = a, y = b, ...)`: a tuple whose fields have names.
    pub(super) fn record(&mut self, fields: &[(Spanned<String>, Expr)]) -> Val {
        for (i, (name, _)) in fields.iter().enumerate() {
            if fields[..i].iter().any(|(n, _)| n.node == name.node) {
                let msg = format!("the record names field '{}' twice", name.node);
                self.error(msg, name.span, "repeated");
                return Val::zero();
            }
        }
        let elems: Vec<Expr> = fields.iter().map(|(_, e)| e.clone()).collect();
        match self.tuple(&elems) {
            Val::Bytes(slot, Type::Tuple(types)) => {
                let named = fields
                    .iter()
                    .zip(types)
                    .map(|((name, _), ty)| Type::Named(name.node.clone(), Box::new(ty)))
                    .collect();
                Val::Bytes(slot, Type::Tuple(named))
            }
            other => other,
        }
    }

    /// `r.name`: the field called `name` of a record, if `fields` are a record's.
    pub(super) fn record_field(
        &mut self,
        slot: crate::ir::SlotId,
        fields: &[Type],
        name: &Spanned<String>,
    ) -> Val {
        let found = fields
            .iter()
            .position(|f| matches!(f, Type::Named(n, _) if *n == name.node));
        match found {
            Some(index) => self.tuple_field(slot, fields, index),
            None => {
                let names = crate::types::record_names(&Type::Tuple(fields.to_vec()));
                let msg = match names {
                    Some(names) => format!(
                        "the record has no field '{}'; its fields are {}",
                        name.node,
                        names.join(", ")
                    ),
                    None => format!("a tuple has no field '{}'; use .0, .1, ...", name.node),
                };
                self.error(msg, name.span, "no such field");
                Val::zero()
            }
        }
    }

    /// Copies the record of type `from` in `src` into the record of type `to` in `dst`
    /// field by field, matching fields by name (`$r = (y = 1, x = 2)` into a
    /// `(x, y)` record); false, copying nothing, unless both records have the same
    /// fields with the same types in some order.
    pub(super) fn copy_record(
        &mut self,
        dst: crate::ir::SlotId,
        to: &Type,
        src: crate::ir::SlotId,
        from: &Type,
    ) -> bool {
        let (Type::Tuple(to_fields), Type::Tuple(from_fields)) = (to, from) else {
            return false;
        };
        let found: Option<Vec<usize>> = to_fields
            .iter()
            .map(|want| match want {
                Type::Named(..) => from_fields.iter().position(|f| f == want),
                _ => None,
            })
            .collect();
        let Some(sources) = found.filter(|s| s.len() == from_fields.len()) else {
            return false;
        };
        let (to_offsets, from_offsets) = (tuple_layout(to_fields).0, tuple_layout(from_fields).0);
        for (i, j) in sources.into_iter().enumerate() {
            let len = to_fields[i].size().div_ceil(8) * 8;
            let (at, from_at) = (to_offsets[i] as i32, from_offsets[j] as i32);
            self.b
                .copy(Base::Slot(dst), at, Base::Slot(src), from_at, len);
        }
        true
    }

    /// `(a, b, ...)`: every element stored at its offset in one slot.
    pub(super) fn tuple(&mut self, elems: &[Expr]) -> Val {
        let vals: Vec<Val> = elems.iter().map(|e| self.expr(e)).collect();
        for (v, e) in vals.iter().zip(elems) {
            if !v.ty().is_storable() && !matches!(v.ty(), Type::Ptr { .. }) {
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
        if fields.get(index as usize).is_none() {
            let msg = format!("the tuple has {} fields; .{index} is not one", fields.len());
            self.error(msg, span, "no such field");
            return Val::zero();
        }
        self.tuple_field(slot, &fields, index as usize)
    }

    /// Field `index` (which exists) of the tuple of `fields` in `slot`.
    fn tuple_field(&mut self, slot: crate::ir::SlotId, fields: &[Type], index: usize) -> Val {
        let ty = match &fields[index] {
            Type::Named(_, ty) => (**ty).clone(),
            ty => ty.clone(),
        };
        let offset = tuple_layout(fields).0[index] as i32;
        match ty {
            Type::Int { .. } | Type::Bool => self.slot_value(slot, offset, &ty),
            other => {
                let size = other.size();
                // Whole words from an aligned field stay inside the tuple's slot.
                let copied = if offset % 8 == 0 {
                    size.div_ceil(8) * 8
                } else {
                    size
                };
                let own = self.copied(slot, offset, copied, size);
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
        let index = self.module.formats.len();
        if self.module.big_records.contains(&index) {
            // Only strings, structs and other formatted values are that big.
            self.printf_in_scratch("%s\n", arg, args, false);
        } else {
            let val = self.expr(arg);
            let template = match val.ty() {
                Type::Int { signed: true, .. } => "%ld\n",
                Type::Int { .. } | Type::Ptr { .. } => "%lu\n",
                Type::Void | Type::Args => {
                    let msg = format!("print() cannot print {}", val.ty());
                    self.error(msg, arg.span, "no printable value");
                    return;
                }
                _ => "%s\n",
            };
            self.printf_vals(template.to_string(), &[val], false);
        }
        if let Some(format) = self.module.formats.get_mut(index) {
            format.value = true;
        }
    }

    /// Stores a value laid out as `from` (at slot offset `src`) as `to`: the same shape
    /// with strings of other lengths (cut, or padded with zeros), as when a map's or a
    /// variable's type unifies every assignment's.
    pub(super) fn store_converted(
        &mut self,
        base: Base,
        offset: i32,
        src: (SlotId, i32),
        from: &Type,
        to: &Type,
    ) {
        match (from, to) {
            (Type::Tuple(fs), Type::Tuple(ts)) if fs.len() == ts.len() => {
                let (from_offsets, _) = tuple_layout(fs);
                let (to_offsets, _) = tuple_layout(ts);
                for (i, (f, t)) in fs.iter().zip(ts).enumerate() {
                    let at = offset + to_offsets[i] as i32;
                    let field = (src.0, src.1 + from_offsets[i] as i32);
                    self.store_converted(base, at, field, f, t);
                }
            }
            (Type::Named(_, f), Type::Named(_, t)) => self.store_converted(base, offset, src, f, t),
            (Type::Str { size: f }, Type::Str { size: t }) => {
                let len = (*f).min(*t).div_ceil(8) * 8;
                let total = t.div_ceil(8) * 8;
                self.b.copy(base, offset, Base::Slot(src.0), src.1, len);
                self.b.zero(base, offset + len as i32, total - len);
            }
            _ => self
                .b
                .copy(base, offset, Base::Slot(src.0), src.1, to.size()),
        }
    }
}
