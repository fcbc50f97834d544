//! Typed memory: struct members through `->` and `.`, bitfields, array elements and
//! pointer indexing, `*p`, casts to pointer types, and the typed `args` of tracepoints,
//! fentry/fexit and raw tracepoints. Kernel memory is read with `probe_read_kernel`,
//! user memory (syscall arguments, uprobes) with `probe_read_user`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Inst, Operand, VReg};
use crate::tracefs::FieldType;
use crate::types::{StructRef, Type};
use ebpfc_parser::ast::{Expr, ExprKind, Spanned, TypeExpr, TypeKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::Attach;

impl Lower<'_> {
    /// `e.name` / `e->name` (an alias): a member of a struct, of the struct a pointer
    /// points to, of a record or of `args`.
    pub(super) fn field(&mut self, base: &Expr, field: &Spanned<String>) -> Val {
        let (name, span) = (field.node.as_str(), field.span);
        match self.expr(base) {
            Val::Args => self.args_field(name, span),
            Val::Bytes(slot, Type::Tuple(fields)) => self.record_field(slot, &fields, field),
            // `->` is an alias of `.`, and `.` on a pointer reads through it.
            Val::Bytes(slot, Type::Struct(s)) => self.slot_member(slot, &s, field),
            Val::Scalar(addr, Type::Ptr { pointee, user }) => match *pointee {
                Type::Struct(s) => self.read_member(addr, &s, user, name, span),
                other => self.no_fields(
                    &Type::Ptr {
                        pointee: Box::new(other),
                        user,
                    },
                    base.span,
                ),
            },
            Val::Mem {
                addr,
                ty: Type::Struct(s),
                user,
            } => self.read_member(addr, &s, user, name, span),
            other => self.no_fields(&other.ty(), base.span),
        }
    }

    fn no_fields(&mut self, ty: &Type, span: Span) -> Val {
        let msg = match (ty, self.module.types.btf()) {
            (Type::Int { size: 8, .. }, Err(why)) => format!("{ty} has no fields: {why}"),
            (Type::Int { size: 8, .. }, Ok(_)) => format!(
                "{ty} has no fields; cast it to a struct pointer first, as in ((struct task_struct *)arg0)->pid"
            ),
            _ => format!("{ty} has no fields"),
        };
        self.error(msg, span, "not a struct");
        Val::zero()
    }

    fn read_member(
        &mut self,
        addr: Operand,
        s: &StructRef,
        user: bool,
        name: &str,
        span: Span,
    ) -> Val {
        let member = match self.module.types.member(s, name) {
            Ok(m) => m,
            Err(msg) => {
                self.error(msg, span, "unknown field");
                return Val::zero();
            }
        };
        if member.bits != 0 {
            return self.read_bitfield(addr, member.offset_bits, member.bits, &member.ty, user);
        }
        self.load_at(addr, member.offset_bits / 8, &member.ty, user, span)
    }

    /// The value of type `ty` at `addr + offset`: integers and pointers are read,
    /// `char` arrays become strings, structs and other arrays (`u8` ones too) stay in
    /// memory.
    pub(super) fn load_at(
        &mut self,
        addr: Operand,
        offset: u32,
        ty: &Type,
        user: bool,
        span: Span,
    ) -> Val {
        let at = self.offset(addr, i64::from(offset));
        match ty {
            Type::Int { size, signed } => {
                let r = self.read_scalar(at, *size, *signed, user);
                Val::Scalar(Operand::Reg(r), ty.clone())
            }
            Type::Ptr { pointee, .. } => {
                let r = self.read_scalar(at, 8, false, user);
                let ty = Type::Ptr {
                    pointee: pointee.clone(),
                    user,
                };
                Val::Scalar(Operand::Reg(r), ty)
            }
            Type::Array { elem, len } if elem.is_char() => self.read_bytes(at, *len, user),
            Type::Struct(_) | Type::Array { .. } => Val::Mem {
                addr: at,
                ty: ty.clone(),
                user,
            },
            other => {
                self.error(format!("cannot read a value of type {other}"), span, "here");
                Val::zero()
            }
        }
    }

    /// `addr + delta`, folded when both are known.
    pub(super) fn offset(&mut self, addr: Operand, delta: i64) -> Operand {
        match addr {
            _ if delta == 0 => addr,
            Operand::Imm(a) => Operand::Imm(a.wrapping_add(delta)),
            Operand::Reg(r) => {
                let dst = self.b.vreg();
                self.b.emit(Inst::Alu {
                    dst,
                    op: AluOp::Add,
                    lhs: r,
                    rhs: Operand::Imm(delta),
                });
                Operand::Reg(dst)
            }
        }
    }

    /// The helper that reads user or kernel memory.
    pub(super) fn probe_read(&self, user: bool) -> helpers::Helper {
        if user {
            helpers::PROBE_READ_USER
        } else {
            helpers::PROBE_READ_KERNEL
        }
    }

    /// Reads `size` bytes at `addr` into a register (0 if the read fails).
    fn read_scalar(&mut self, addr: Operand, size: u8, signed: bool, user: bool) -> VReg {
        let slot = self.b.slot(8);
        self.b.zero(Base::Slot(slot), 0, 8);
        let args = vec![
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(size))),
            Arg::Val(addr),
        ];
        let helper = self.probe_read(user);
        self.b.call(helper, args);
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset: 0,
            size,
            signed,
        });
        dst
    }

    /// Reads a `char[len]` at `addr` into a string.
    fn read_bytes(&mut self, addr: Operand, len: u32, user: bool) -> Val {
        let slot = self.b.slot(len + 1);
        let size = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, size);
        let args = vec![
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(len))),
            Arg::Val(addr),
        ];
        let helper = self.probe_read(user);
        self.b.call(helper, args);
        Val::Str(slot, len)
    }

    /// A bitfield of `bits` bits starting `offset_bits` into the struct at `addr`.
    fn read_bitfield(
        &mut self,
        addr: Operand,
        offset_bits: u32,
        bits: u32,
        ty: &Type,
        user: bool,
    ) -> Val {
        let size = bitfield_load_size(offset_bits, bits);
        let at = self.offset(addr, i64::from(offset_bits / 8));
        let raw = self.read_scalar(at, size, false, user);
        self.extract_bits(raw, offset_bits % 8, bits, ty)
    }

    /// The `bits` bits from bit `shift` of `raw`, sign-extended when `ty` is signed.
    pub(super) fn extract_bits(&mut self, raw: VReg, shift: u32, bits: u32, ty: &Type) -> Val {
        // Shift the field to the top, then back down: arithmetically when it is signed.
        let width = bits.clamp(1, 64 - shift);
        let top = i64::from(64 - shift - width);
        let down = if ty.is_signed() {
            AluOp::AShr
        } else {
            AluOp::LShr
        };
        let dst = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst,
            op: AluOp::Shl,
            lhs: raw,
            rhs: Operand::Imm(top),
        });
        self.b.emit(Inst::Alu {
            dst,
            op: down,
            lhs: dst,
            rhs: Operand::Imm(i64::from(64 - width)),
        });
        let ty = if ty.is_int() { ty.clone() } else { Type::U64 };
        Val::Scalar(Operand::Reg(dst), ty)
    }

    /// `e[i]` on an array in memory or a pointer.
    pub(super) fn index(&mut self, base: &Expr, index: &Expr, span: Span) -> Val {
        if let Some(v) = self.tracepoint_element(base, index) {
            return v;
        }
        let (addr, elem, user) = match self.expr(base) {
            Val::Mem {
                addr,
                ty: Type::Array { elem, .. },
                user,
            } => (addr, *elem, user),
            Val::Scalar(addr, Type::Ptr { pointee, user }) => (addr, *pointee, user),
            Val::Str(slot, size) => return self.string_byte(slot, size, index),
            Val::Bytes(slot, Type::Array { elem, len }) => {
                return self.slot_element(slot, &elem, len, index)
            }
            other => {
                let msg = format!("{} cannot be indexed", other.ty());
                self.error(msg, base.span, "not an array or pointer");
                return Val::zero();
            }
        };
        let at = self.element_addr(addr, &elem, index);
        self.load_at(at, 0, &elem, user, span)
    }

    /// `s[i]` on a string: the byte at constant index `i`.
    fn string_byte(&mut self, slot: crate::ir::SlotId, size: u32, index: &Expr) -> Val {
        let Some(i) = self
            .const_int(index)
            .filter(|i| (0..i64::from(size)).contains(i))
        else {
            let msg = format!(
                "a string[{size}] index must be a constant from 0 to {}",
                size - 1
            );
            self.error(msg, index.span, "bad index");
            return Val::zero();
        };
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset: i as i32,
            size: 1,
            signed: false,
        });
        Val::Scalar(
            Operand::Reg(dst),
            Type::Int {
                size: 1,
                signed: false,
            },
        )
    }

    /// `addr + index * sizeof(elem)`.
    fn element_addr(&mut self, addr: Operand, elem: &Type, index: &Expr) -> Operand {
        let size = i64::from(elem.size().max(1));
        if let Some(i) = self.const_int(index) {
            return self.offset(addr, i.wrapping_mul(size));
        }
        let i = self.int_operand(index);
        let scaled = self.b.vreg();
        let i = self.b.reg(i);
        self.b.emit(Inst::Alu {
            dst: scaled,
            op: AluOp::Mul,
            lhs: i,
            rhs: Operand::Imm(size),
        });
        let a = self.b.reg(addr);
        self.b.emit(Inst::Alu {
            dst: scaled,
            op: AluOp::Add,
            lhs: scaled,
            rhs: Operand::Reg(a),
        });
        Operand::Reg(scaled)
    }

    /// `*p`.
    pub(super) fn deref(&mut self, inner: &Expr) -> Val {
        match self.expr(inner) {
            Val::Scalar(addr, Type::Ptr { pointee, user }) => {
                self.load_at(addr, 0, &pointee, user, inner.span)
            }
            Val::Scalar(addr, Type::Int { .. }) => {
                let user = self.user_pointers();
                self.load_at(addr, 0, &Type::U64, user, inner.span)
            }
            other => {
                let msg = format!("cannot dereference {}", other.ty());
                self.error(msg, inner.span, "not a pointer");
                Val::zero()
            }
        }
    }

    /// The language type a written type names.
    pub(super) fn resolve_type(&mut self, ty: &TypeExpr) -> Option<Type> {
        let resolved = match &ty.kind {
            TypeKind::Named(name) => self.module.types.named(name),
            TypeKind::Tagged { keyword, name } => self.module.types.tagged(keyword, name),
            TypeKind::Pointer(inner) => {
                let pointee = self.resolve_type(inner)?;
                Ok(Type::Ptr {
                    pointee: Box::new(pointee),
                    user: false,
                })
            }
            TypeKind::Array(elem, len) => {
                let elem = self.resolve_type(elem)?;
                Ok(Type::Array {
                    elem: Box::new(elem),
                    len: *len as u32,
                })
            }
            TypeKind::Tuple(_) => Err("tuple types are not supported here".to_string()),
        };
        match resolved {
            Ok(t) => Some(t),
            Err(msg) => {
                self.error(msg, ty.span, "unknown type");
                None
            }
        }
    }

    /// `(T *)e`: reinterprets an integer or pointer as a pointer to `T`.
    pub(super) fn pointer_cast(&mut self, target: Type, inner: &Expr) -> Val {
        let user = self.user_pointers();
        match self.expr(inner) {
            Val::Scalar(op, Type::Ptr { user: was_user, .. }) => {
                Val::Scalar(op, with_space(target, was_user))
            }
            Val::Scalar(op, _) => Val::Scalar(op, with_space(target, user)),
            other => {
                let msg = format!("cannot cast {} to {target}", other.ty());
                self.error(msg, inner.span, "not an integer or pointer");
                Val::zero()
            }
        }
    }

    /// `ctx` of an iterator: `struct bpf_iter__<target> *`.
    pub(super) fn iter_ctx(&mut self) -> Option<Val> {
        let Attach::Iter { target } = &self.target.attach else {
            return None;
        };
        let name = format!("bpf_iter__{target}");
        let ty = match self.module.types.tagged("struct", &name) {
            Ok(s) => Type::Ptr {
                pointee: Box::new(s),
                user: false,
            },
            Err(_) => Type::U64,
        };
        Some(Val::Scalar(Operand::Reg(self.ctx), ty))
    }

    /// `args.name`: a tracepoint record field, or a typed function argument.
    fn args_field(&mut self, name: &str, span: Span) -> Val {
        if let Some(fields) = self.target.fields.clone() {
            return self.tracepoint_field(&fields, name, span);
        }
        let params = self.typed_args(span);
        match params.iter().position(|(n, _)| n == name) {
            Some(i) => {
                let ty = params[i].1.clone();
                self.ctx_arg(i, &ty)
            }
            None => {
                let hint =
                    crate::suggest::did_you_mean(name, params.iter().map(|(n, _)| n.as_str()));
                let hint = hint
                    .map(|h| format!("; did you mean '{h}'?"))
                    .unwrap_or_default();
                let msg = format!("{} has no argument '{name}'{hint}", self.target.name);
                self.error(msg, span, "unknown argument");
                Val::zero()
            }
        }
    }

    /// The BTF-typed arguments of a fentry/fexit or raw tracepoint target.
    pub(super) fn typed_args(&mut self, span: Span) -> Vec<(String, Type)> {
        let found = match &self.target.attach {
            Attach::Fentry { function, .. } => self.module.types.function(function).map(|f| f.0),
            Attach::RawTracepoint { name } => self.module.types.raw_tracepoint(name),
            _ => Err(format!("{} has no args", self.target.name)),
        };
        found.unwrap_or_else(|msg| {
            self.error(msg, span, "no argument types");
            Vec::new()
        })
    }

    /// Argument `i` of a context that is an array of u64 arguments, typed as `ty`.
    pub(super) fn ctx_arg(&mut self, i: usize, ty: &Type) -> Val {
        let dst = self.b.vreg();
        let (size, signed) = match ty {
            Type::Int { size, signed } => (*size, *signed),
            _ => (8, false),
        };
        let ctx = self.ctx;
        self.b.emit(Inst::Load {
            dst,
            base: Base::Reg(ctx),
            offset: (i * 8) as i32,
            size,
            signed,
        });
        match ty {
            Type::Int { .. } | Type::Ptr { .. } => Val::Scalar(Operand::Reg(dst), ty.clone()),
            other => {
                let msg = format!("arguments of type {other} are not supported");
                let span = Span::default();
                self.error(msg, span, "here");
                Val::zero()
            }
        }
    }

    fn tracepoint_field(
        &mut self,
        fields: &[crate::tracefs::TpField],
        name: &str,
        span: Span,
    ) -> Val {
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            let names = fields.iter().map(|f| f.name.as_str());
            let hint =
                crate::suggest::did_you_mean(name, names).map(|s| format!("; did you mean '{s}'?"));
            let msg = format!(
                "{} has no field '{name}'{}",
                self.target.name,
                hint.unwrap_or_default()
            );
            self.error(msg, span, "unknown field");
            return Val::zero();
        };
        let val = self.load_field(field.offset, &field.ty);
        let wants_btf = field.ctype.contains("struct ") || field.ctype.contains("union ");
        match val {
            Val::Scalar(op, Type::Ptr { .. }) if wants_btf => {
                match self.module.types.c_text(&field.ctype) {
                    Ok(t) => Val::Scalar(op, with_space(t, self.user_pointers())),
                    Err(msg) => {
                        self.error(msg, span, "field type");
                        Val::zero()
                    }
                }
            }
            Val::Scalar(op, Type::Ptr { pointee, .. }) => {
                let user = self.user_pointers();
                Val::Scalar(op, Type::Ptr { pointee, user })
            }
            other => other,
        }
    }

    fn load_field(&mut self, offset: u32, ty: &FieldType) -> Val {
        match ty {
            FieldType::Scalar(t) => {
                let (size, signed) = match t {
                    Type::Int { size, signed } => (*size, *signed),
                    _ => (8, false),
                };
                let dst = self.b.vreg();
                let base = Base::Reg(self.ctx);
                self.b.emit(Inst::Load {
                    dst,
                    base,
                    offset: offset as i32,
                    size,
                    signed,
                });
                Val::Scalar(Operand::Reg(dst), t.clone())
            }
            FieldType::CharArray(len) => self.read_ctx_bytes(offset, *len),
            FieldType::DataLoc => self.read_data_loc(offset),
            // Without an index, an array field reads as its first element.
            FieldType::Array { elem, .. } => {
                self.load_field(offset, &FieldType::Scalar(elem.clone()))
            }
        }
    }

    /// `args->field[i]` of an integer array in a tracepoint record: element `i` (a
    /// constant in range) read straight from the record; `None` for anything else.
    fn tracepoint_element(&mut self, base: &Expr, index: &Expr) -> Option<Val> {
        let ExprKind::Field { expr, field, .. } = &base.kind else {
            return None;
        };
        if !matches!(&expr.kind, ExprKind::Ident(n) if n == "args") {
            return None;
        }
        let fields = self.target.fields.clone()?;
        let found = fields.iter().find(|f| f.name == field.node)?;
        let FieldType::Array { elem, len } = &found.ty else {
            return None;
        };
        let Some(i) = self
            .const_int(index)
            .filter(|i| (0..i64::from(*len)).contains(i))
        else {
            let msg = format!(
                "the index of {} must be a constant from 0 to {}",
                field.node,
                len - 1
            );
            self.error(msg, index.span, "index");
            return Some(Val::zero());
        };
        let offset = found.offset + i as u32 * elem.size();
        Some(self.load_field(offset, &FieldType::Scalar(elem.clone())))
    }
}

/// The bytes (1, 2, 4 or 8) to load for a bitfield of `bits` bits at bit `offset_bits`.
pub(super) fn bitfield_load_size(offset_bits: u32, bits: u32) -> u8 {
    let span = (offset_bits % 8 + bits).div_ceil(8);
    [1u8, 2, 4, 8]
        .into_iter()
        .find(|s| u32::from(*s) >= span)
        .unwrap_or(8)
}

/// `ty` with its outermost pointer marked as pointing into user memory (or not).
fn with_space(ty: Type, user: bool) -> Type {
    match ty {
        Type::Ptr { pointee, .. } => Type::Ptr { pointee, user },
        other => other,
    }
}
