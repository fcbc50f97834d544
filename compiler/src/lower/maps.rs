//! Maps: signatures learned from assignments, key construction, reads, plain value
//! assignment and the per-CPU aggregations (count, sum, min, max, avg, stats, hist,
//! lhist) with the value layouts `ebpfc_stdlib::meta::MapKind` documents.

use super::mapcheck::{compatible, conflict, describe, two_places, unify};
use super::mapsig::MapSig;
pub use super::mapsig::MAX_KEYS;
use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, MapId, Operand, SlotId, Term, VReg};
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::Expr;
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::MapKind;

const BPF_NOEXIST: i64 = 1;
/// The most buckets an lhist() may have, as in bpftrace.
const MAX_LHIST_BUCKETS: i64 = 1000;
/// An insertion that lost a race with another CPU's: not a drop.
const EEXIST: i64 = 17;

impl Lower<'_> {
    /// Records (first pass) or checks (second pass) the signature of an assignment.
    pub(super) fn learn_map(
        &mut self,
        name: &str,
        kind: MapKind,
        key: Option<Type>,
        value: Type,
        span: Span,
    ) -> Option<MapSig> {
        let Some(existing) = self.module.maps.get(name).cloned() else {
            let sig = MapSig {
                name: name.to_string(),
                id: MapId(0),
                kind,
                key,
                value,
                span,
                max_entries: MAX_KEYS,
                lru: false,
            };
            self.module.maps.insert(name.to_string(), sig.clone());
            return Some(sig);
        };
        if let Some(msg) = conflict(&existing, &kind, &key, &value) {
            if !self.module.learning {
                self.module
                    .diags
                    .push(two_places(name, &msg, existing.span, span));
            }
            return None;
        }
        let merged = MapSig {
            key: match (&existing.key, &key) {
                (Some(a), Some(b)) => Some(unify(a, b)),
                _ => existing.key.clone(),
            },
            value: unify(&existing.value, &value),
            ..existing
        };
        self.module.maps.insert(name.to_string(), merged.clone());
        Some(merged)
    }

    /// Lowers the key expressions of `@m[k1, k2]` into a stored key type and values.
    pub(super) fn key_vals(&mut self, keys: &[Expr]) -> (Option<Type>, Vec<Val>) {
        let vals: Vec<Val> = keys.iter().map(|k| self.expr(k)).collect();
        let types: Vec<Type> = vals.iter().map(|v| v.ty().widened()).collect();
        let key = match types.len() {
            0 => None,
            1 => Some(types[0].clone()),
            _ => Some(Type::Tuple(types)),
        };
        (key, vals)
    }

    /// Builds the BPF key of `sig` in a fresh slot (bucket index, if any, at the end).
    pub(super) fn build_key(&mut self, sig: &MapSig, vals: &[Val], bucket: Option<VReg>) -> SlotId {
        let size = sig.bpf_key_size();
        let slot = self.b.slot(size);
        self.b.zero(Base::Slot(slot), 0, size);
        let fields: Vec<Type> = match &sig.key {
            Some(Type::Tuple(fields)) => fields.clone(),
            Some(t) => vec![t.clone()],
            None => vec![],
        };
        let (offsets, _) = tuple_layout(&fields);
        match (vals, &sig.key) {
            // `@[(a, b)]`: one tuple value laid out as the key `@[a, b]`.
            ([whole @ Val::Bytes(_, Type::Tuple(_))], Some(key)) if fields.len() > 1 => {
                self.store_val(Base::Slot(slot), 0, whole, key);
            }
            _ => {
                for ((val, ty), off) in vals.iter().zip(&fields).zip(offsets) {
                    self.store_val(Base::Slot(slot), off as i32, val, ty);
                }
            }
        }
        if let Some(idx) = bucket {
            let off = (size - 8) as i32;
            self.b.emit(Inst::Store {
                base: Base::Slot(slot),
                offset: off,
                size: 8,
                value: Operand::Reg(idx),
            });
        }
        slot
    }

    /// Stores `val` as type `ty` at `base + offset` (strings copied, zero padded).
    pub(super) fn store_val(&mut self, base: Base, offset: i32, val: &Val, ty: &Type) {
        match (val, ty) {
            (Val::Scalar(op, _), _) => {
                let size = ty.size().clamp(1, 8) as u8;
                self.b.emit(Inst::Store {
                    base,
                    offset,
                    size,
                    value: *op,
                });
            }
            (Val::Str(src, src_size), Type::Str { .. }) => {
                let from = Type::Str { size: *src_size };
                self.store_converted(base, offset, (*src, 0), &from, ty);
            }
            (Val::Bytes(src, from), to) if from == to => {
                self.b.copy(base, offset, Base::Slot(*src), 0, to.size());
            }
            (Val::Bytes(src, from), to) => self.store_converted(base, offset, (*src, 0), from, to),
            (Val::Mem { addr, ty, user }, _) => {
                self.b.zero(base, offset, ty.size());
                let size = Operand::Imm(i64::from(ty.size()));
                self.read_into((base, offset), size, *addr, *user);
            }
            _ => {}
        }
    }

    /// `@m[keys] = value` for a plain (non-aggregating) map.
    pub(super) fn assign_map(&mut self, name: &str, keys: &[Expr], value: Val, span: Span) {
        let (key, vals) = self.key_vals(keys);
        let vty = value.ty().widened();
        if !vty.is_storable() {
            self.error(
                format!("cannot store {} in a map", describe(&vty)),
                span,
                "this value",
            );
            return;
        }
        let Some(sig) = self.learn_map(name, MapKind::Value, key, vty, span) else {
            return;
        };
        let key_slot = self.build_key(&sig, &vals, None);
        let val_slot = self.b.slot(sig.value_size());
        self.store_val(Base::Slot(val_slot), 0, &value, &sig.value);
        let args = vec![
            Arg::Map(sig.id),
            Arg::Slot(key_slot, 0),
            Arg::Slot(val_slot, 0),
            Arg::Val(Operand::Imm(0)),
        ];
        let result = self.b.call(helpers::MAP_UPDATE, args);
        self.count_dropped(result, sig.id, None);
    }

    /// Counts an update of map `id` that failed (the map is full) for the runtime to
    /// report; `except` is an error that is not a drop.
    fn count_dropped(&mut self, result: VReg, id: MapId, except: Option<i64>) {
        self.module.uses_dropped = true;
        let counters = self.module.dropped_map;
        self.count_failure(result, counters, i64::from(id.0), except);
    }

    /// The signature of a map that is read; an error (after learning) if it never is
    /// assigned.
    pub(super) fn known_map(&mut self, name: &str, span: Span) -> Option<MapSig> {
        let sig = self.module.maps.get(name).cloned();
        if sig.is_none() && !self.module.learning {
            let msg = format!("map {name} is used but never assigned");
            self.error(msg, span, "undefined map");
        }
        sig
    }

    /// Reads `@m[keys]` (0 or an empty string when absent).
    pub(super) fn read_map(&mut self, name: &str, keys: &[Expr], span: Span) -> Val {
        let (key, vals) = self.key_vals(keys);
        let Some(sig) = self.known_map(name, span) else {
            return Val::zero();
        };
        if let (Some(stored), Some(read)) = (&sig.key, &key) {
            if !compatible(stored, read) && !self.module.learning {
                let msg = (
                    format!("has key {stored} here"),
                    format!("but is read with key {read} here"),
                );
                let diag = two_places(name, &msg, sig.span, span);
                self.module.diags.push(diag);
                return Val::zero();
            }
        }
        if keys.is_empty() != sig.key.is_none() {
            let msg = match sig.key {
                Some(_) => format!("{name} has keys: read one entry with {name}[key]"),
                None => format!("{name} has no keys: read it as {name}"),
            };
            self.error(msg, span, "key count");
            return Val::zero();
        }
        if let Some(kind) = unreadable(&sig.kind).filter(|_| !self.module.learning) {
            let msg = format!("{name} is a {kind} map: it can be printed, not read as a value");
            self.error(msg, span, "not a value");
            return Val::zero();
        }
        let bucket = sig.is_bucketed().then(|| self.b.reg(Operand::Imm(0)));
        let key = self.build_key(&sig, &vals, bucket);
        let ptr = self.b.call(
            helpers::MAP_LOOKUP,
            vec![Arg::Map(sig.id), Arg::Slot(key, 0)],
        );
        match (&sig.kind, &sig.value) {
            (MapKind::Value, Type::Str { size }) => self.read_str_value(ptr, *size),
            (MapKind::Value, ty) if ty.is_formatted() || ty.is_c_aggregate() => {
                self.read_bytes_value(ptr, ty.clone())
            }
            (kind, ty) => self.read_int_value(ptr, kind, ty),
        }
    }

    fn read_int_value(&mut self, ptr: VReg, kind: &MapKind, ty: &Type) -> Val {
        let out = self.b.var(Operand::Imm(0));
        let (found, done) = (self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        let signed = !matches!(kind, MapKind::Count);
        self.b.emit(Inst::Load {
            dst: out,
            base: Base::Reg(ptr),
            offset: 0,
            size: 8,
            signed,
        });
        if matches!(kind, MapKind::Avg | MapKind::Stats) {
            let count = self.b.vreg();
            self.b.emit(Inst::Load {
                dst: count,
                base: Base::Reg(ptr),
                offset: 8,
                size: 8,
                signed: false,
            });
            self.b.emit(Inst::Alu {
                dst: out,
                op: AluOp::SDiv,
                lhs: out,
                rhs: Operand::Reg(count),
            });
        }
        self.b.jump_to(done);
        let ty = if matches!(kind, MapKind::Value) {
            ty.clone()
        } else {
            Type::I64
        };
        Val::Scalar(Operand::Reg(out), ty)
    }

    /// Copies a formatted value (inet, buffer, stack, symbol) or a C struct or array out
    /// of a map value.
    fn read_bytes_value(&mut self, ptr: VReg, ty: Type) -> Val {
        let slot = self.b.slot(ty.size());
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        let (found, done) = (self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        self.b
            .copy(Base::Slot(slot), 0, Base::Reg(ptr), 0, ty.size());
        self.b.jump_to(done);
        Val::Bytes(slot, ty)
    }

    fn read_str_value(&mut self, ptr: VReg, size: u32) -> Val {
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        let (found, done) = (self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        self.b.copy(Base::Slot(slot), 0, Base::Reg(ptr), 0, len);
        self.b.jump_to(done);
        Val::Str(slot, size)
    }

    /// `@m[keys] = count()/sum(x)/...`.
    pub(super) fn aggregate(
        &mut self,
        name: &str,
        keys: &[Expr],
        func: &str,
        args: &[Expr],
        span: Span,
    ) {
        let Some((kind, value, bucket)) = self.aggregation_args(func, args, span) else {
            return;
        };
        let (key, vals) = self.key_vals(keys);
        let Some(sig) = self.learn_map(name, kind.clone(), key, Type::I64, span) else {
            return;
        };
        let key_slot = self.build_key(&sig, &vals, bucket);
        let ptr = self.b.call(
            helpers::MAP_LOOKUP,
            vec![Arg::Map(sig.id), Arg::Slot(key_slot, 0)],
        );
        let (update, create, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), update, create);
        self.update_in_place(&kind, ptr, value, done);
        self.b.finish(Term::Jump(done), create);
        let init = self.b.slot(16);
        self.initial_value(&kind, init, value);
        let args = vec![
            Arg::Map(sig.id),
            Arg::Slot(key_slot, 0),
            Arg::Slot(init, 0),
            Arg::Val(Operand::Imm(BPF_NOEXIST)),
        ];
        let result = self.b.call(helpers::MAP_UPDATE, args);
        self.count_dropped(result, sig.id, Some(-EEXIST));
        self.b.jump_to(done);
    }

    /// Checks an aggregation call; returns its kind, the value it adds, and the bucket.
    fn aggregation_args(
        &mut self,
        func: &str,
        args: &[Expr],
        span: Span,
    ) -> Option<(MapKind, Operand, Option<VReg>)> {
        let arity_error =
            ebpfc_stdlib::catalogue::function(func).and_then(|f| f.arity_error(args.len()));
        if let Some(msg) = arity_error {
            self.error(msg, span, "in this call");
            return None;
        }
        if func == "count" {
            return Some((MapKind::Count, Operand::Imm(1), None));
        }
        let value = self.int_operand(&args[0]);
        let result = match func {
            "sum" => (MapKind::Sum, value, None),
            "min" => (MapKind::Min, value, None),
            "max" => (MapKind::Max, value, None),
            "avg" => (MapKind::Avg, value, None),
            "stats" => (MapKind::Stats, value, None),
            "hist" => {
                let bits = self.hist_bits(args.get(1))?;
                let bucket = self.log2_bucket(value, bits);
                (MapKind::Hist { bits }, Operand::Imm(1), Some(bucket))
            }
            _ => {
                let (min, max, step) = self.lhist_params(&args[1..], span)?;
                let bucket = self.linear_bucket(value, min, max, step);
                (
                    MapKind::Lhist { min, max, step },
                    Operand::Imm(1),
                    Some(bucket),
                )
            }
        };
        Some(result)
    }

    /// The `bits` argument of `hist(v, bits)`: a literal from 0 to 5 (0 without it).
    fn hist_bits(&mut self, arg: Option<&Expr>) -> Option<u32> {
        let Some(arg) = arg else {
            return Some(0);
        };
        let max = super::buckets::MAX_HIST_BITS;
        match self.const_int(arg) {
            Some(n) if (0..=i64::from(max)).contains(&n) => Some(n as u32),
            _ => {
                let msg = format!("hist() bits must be an integer literal from 0 to {max}");
                self.error(msg, arg.span, "invalid bits");
                None
            }
        }
    }

    /// lhist() bounds and step: literals with 0 <= min < max, 0 < step <= max - min and at
    /// most [`MAX_LHIST_BUCKETS`] buckets.
    fn lhist_params(&mut self, args: &[Expr], span: Span) -> Option<(i64, i64, i64)> {
        let consts: Vec<Option<i64>> = args.iter().map(|a| self.const_int(a)).collect();
        match consts.as_slice() {
            [Some(min), Some(max), Some(step)] if *step > max - min && max > min => {
                let msg = format!("lhist() step {step} is larger than the range {min}..{max}");
                self.error(msg, span, "step too large");
                None
            }
            [Some(min), Some(max), Some(step)] if *step > 0 && max > min && *min >= 0 => {
                let buckets = (max - min) / step;
                if buckets > MAX_LHIST_BUCKETS {
                    let msg = format!(
                        "lhist() has too many buckets: {buckets}, at most {MAX_LHIST_BUCKETS}"
                    );
                    self.error(msg, span, "too many buckets");
                    return None;
                }
                Some((*min, *max, *step))
            }
            [Some(_), Some(_), Some(_)] => {
                self.error(
                    "lhist() needs 0 <= min < max and step > 0",
                    span,
                    "invalid bounds",
                );
                None
            }
            _ => {
                self.error(
                    "lhist() min, max and step must be integer literals",
                    span,
                    "not constant",
                );
                None
            }
        }
    }

    /// The per-kind update of an existing value at `ptr`; the current block is left
    /// open for the caller to end with a jump to `done`.
    fn update_in_place(
        &mut self,
        kind: &MapKind,
        ptr: VReg,
        value: Operand,
        done: crate::ir::BlockId,
    ) {
        let base = Base::Reg(ptr);
        match kind {
            MapKind::Min | MapKind::Max => {
                let cur = self.b.vreg();
                let set = self.b.vreg();
                self.b.emit(Inst::Load {
                    dst: cur,
                    base,
                    offset: 0,
                    size: 8,
                    signed: true,
                });
                self.b.emit(Inst::Load {
                    dst: set,
                    base,
                    offset: 8,
                    size: 8,
                    signed: false,
                });
                let (check, write) = (self.fresh_block(), self.fresh_block());
                self.b.branch(Cmp::Ne, set, Operand::Imm(0), check, write);
                let cond = if matches!(kind, MapKind::Min) {
                    Cmp::SLt
                } else {
                    Cmp::SGt
                };
                let v = self.b.reg(value);
                self.b.branch(cond, v, Operand::Reg(cur), write, done);
                self.b.emit(Inst::Store {
                    base,
                    offset: 0,
                    size: 8,
                    value,
                });
                self.b.emit(Inst::Store {
                    base,
                    offset: 8,
                    size: 8,
                    value: Operand::Imm(1),
                });
            }
            MapKind::Avg | MapKind::Stats => {
                self.add_at(base, 0, value);
                self.add_at(base, 8, Operand::Imm(1));
            }
            _ => self.add_at(base, 0, value),
        }
    }

    fn add_at(&mut self, base: Base, offset: i32, value: Operand) {
        let cur = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: cur,
            base,
            offset,
            size: 8,
            signed: false,
        });
        self.b.emit(Inst::Alu {
            dst: cur,
            op: AluOp::Add,
            lhs: cur,
            rhs: value,
        });
        self.b.emit(Inst::Store {
            base,
            offset,
            size: 8,
            value: Operand::Reg(cur),
        });
    }

    fn initial_value(&mut self, kind: &MapKind, slot: SlotId, value: Operand) {
        let base = Base::Slot(slot);
        let second = match kind {
            MapKind::Min | MapKind::Max | MapKind::Avg | MapKind::Stats => 1,
            _ => 0,
        };
        self.b.emit(Inst::Store {
            base,
            offset: 0,
            size: 8,
            value,
        });
        self.b.emit(Inst::Store {
            base,
            offset: 8,
            size: 8,
            value: Operand::Imm(second),
        });
    }
}

/// The name of an aggregation whose maps hold no single value to read (`hist`,
/// `lhist`, `stats`); `None` for the others.
fn unreadable(kind: &MapKind) -> Option<&'static str> {
    match kind {
        MapKind::Hist { .. } => Some("hist"),
        MapKind::Lhist { .. } => Some("lhist"),
        MapKind::Stats => Some("stats"),
        _ => None,
    }
}
