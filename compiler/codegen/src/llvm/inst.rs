//! IR instructions to LLVM instructions, with the direct backend's (that is, the BPF
//! ISA's) semantics wherever LLVM's would differ:
//! - division and modulo by a register use inline BPF assembly, because BPF defines
//!   `x / 0 = 0`, `x % 0 = x` and `INT_MIN / -1` while LLVM makes them undefined;
//!   by an immediate zero they fold to those values;
//! - shift amounts are taken modulo 64, as BPF does;
//! - loads and stores are naturally aligned and zero- or sign-extend to 64 bits;
//! - helpers are called through `inttoptr (i64 id)`, as clang does, which LLVM's BPF
//!   target turns into `call id`.

use super::lower::predicate;
use crate::CodegenError;
use ebpfc_compiler::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, VReg};
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::types::{BasicMetadataTypeEnum, IntType};
use inkwell::values::{
    BasicMetadataValueEnum, BasicValue, FunctionValue, GlobalValue, InstructionValue, IntValue,
    PointerValue, ValueKind,
};
use inkwell::AddressSpace;

/// The state of lowering one function: where each vreg, slot and map lives.
pub struct Lowering<'a, 'ctx> {
    pub cx: &'ctx Context,
    pub builder: Builder<'ctx>,
    pub maps: &'a [GlobalValue<'ctx>],
    /// The program's callbacks, in `Arg::Func` order.
    pub callbacks: &'a [FunctionValue<'ctx>],
    pub vregs: Vec<PointerValue<'ctx>>,
    pub slots: Vec<PointerValue<'ctx>>,
    /// The function's parameters: a program's context, a callback's arguments.
    pub params: Vec<PointerValue<'ctx>>,
}

impl<'ctx> Lowering<'_, 'ctx> {
    fn i64(&self) -> IntType<'ctx> {
        self.cx.i64_type()
    }

    fn imm(&self, i: i64) -> IntValue<'ctx> {
        self.i64().const_int(i as u64, false)
    }

    fn vreg(&self, v: VReg) -> Result<PointerValue<'ctx>, CodegenError> {
        self.vregs
            .get(v.0 as usize)
            .copied()
            .ok_or_else(|| CodegenError::Bug(format!("vreg {v} out of range")))
    }

    fn slot(&self, s: ebpfc_compiler::ir::SlotId) -> Result<PointerValue<'ctx>, CodegenError> {
        self.slots
            .get(s.0 as usize)
            .copied()
            .ok_or_else(|| CodegenError::Bug(format!("slot {} out of range", s.0)))
    }

    fn read(&self, v: VReg) -> Result<IntValue<'ctx>, CodegenError> {
        let value = self.builder.build_load(self.i64(), self.vreg(v)?, "")?;
        Ok(value.into_int_value())
    }

    /// The value of `op` as an `i64`.
    pub fn operand(&self, op: Operand) -> Result<IntValue<'ctx>, CodegenError> {
        match op {
            Operand::Reg(v) => self.read(v),
            Operand::Imm(i) => Ok(self.imm(i)),
        }
    }

    fn def(&self, v: VReg, value: IntValue<'ctx>) -> Result<(), CodegenError> {
        self.builder.build_store(self.vreg(v)?, value)?;
        Ok(())
    }

    /// `cond(lhs, rhs)` as an `i1`.
    pub fn compare(
        &self,
        cond: Cmp,
        lhs: VReg,
        rhs: Operand,
    ) -> Result<IntValue<'ctx>, CodegenError> {
        let (l, r) = (self.read(lhs)?, self.operand(rhs)?);
        Ok(self.builder.build_int_compare(predicate(cond), l, r, "")?)
    }

    /// Lowers one instruction.
    pub fn inst(&self, inst: &Inst) -> Result<(), CodegenError> {
        match inst {
            Inst::Ctx { dst } => self.param(*dst, 0, "ctx"),
            Inst::Param { dst, index } => self.param(*dst, *index, ""),
            Inst::Mov { dst, src } => self.def(*dst, self.operand(*src)?),
            Inst::Alu { dst, op, lhs, rhs } => {
                let v = self.alu(*op, self.read(*lhs)?, *rhs)?;
                self.def(*dst, v)
            }
            Inst::Neg { dst, src } => {
                let v = self.builder.build_int_neg(self.read(*src)?, "")?;
                self.def(*dst, v)
            }
            Inst::Ext {
                dst,
                src,
                size,
                signed,
            } => {
                let v = self.extend(self.read(*src)?, *size, *signed, true)?;
                self.def(*dst, v)
            }
            Inst::Set {
                dst,
                cond,
                lhs,
                rhs,
            } => {
                let c = self.compare(*cond, *lhs, *rhs)?;
                let v = self.builder.build_int_z_extend(c, self.i64(), "")?;
                self.def(*dst, v)
            }
            Inst::Load {
                dst,
                base,
                offset,
                size,
                signed,
            } => {
                let v = self.load(*base, *offset, *size, *signed)?;
                self.def(*dst, v)
            }
            Inst::Store {
                base,
                offset,
                size,
                value,
            } => self.store(*base, *offset, *size, *value),
            Inst::Call {
                dst, helper, args, ..
            } => self.call(*dst, *helper, args),
            // No debug line info is emitted: the LLVM backend's objects carry no
            // source map, and verifier errors name the probe only.
            Inst::Source { .. } => Ok(()),
        }
    }

    /// `dst = ` parameter `index` as an integer (named `name` in the LLVM IR).
    fn param(&self, dst: VReg, index: u8, name: &str) -> Result<(), CodegenError> {
        let p = self
            .params
            .get(usize::from(index))
            .ok_or_else(|| CodegenError::Bug(format!("no parameter {index}")))?;
        let v = self.builder.build_ptr_to_int(*p, self.i64(), name)?;
        self.def(dst, v)
    }

    fn alu(
        &self,
        op: AluOp,
        l: IntValue<'ctx>,
        rhs: Operand,
    ) -> Result<IntValue<'ctx>, CodegenError> {
        let b = &self.builder;
        let v = match (op, rhs) {
            (AluOp::UDiv | AluOp::SDiv, Operand::Imm(0)) => self.imm(0),
            (AluOp::UMod | AluOp::SMod, Operand::Imm(0)) => l,
            (AluOp::UDiv | AluOp::SDiv | AluOp::UMod | AluOp::SMod, Operand::Reg(r)) => {
                self.bpf_divide(op, l, self.read(r)?)?
            }
            (AluOp::Shl | AluOp::LShr | AluOp::AShr, _) => {
                let amount = b.build_and(self.operand(rhs)?, self.imm(63), "")?;
                match op {
                    AluOp::Shl => b.build_left_shift(l, amount, "")?,
                    AluOp::LShr => b.build_right_shift(l, amount, false, "")?,
                    _ => b.build_right_shift(l, amount, true, "")?,
                }
            }
            _ => {
                let r = self.operand(rhs)?;
                match op {
                    AluOp::Add => b.build_int_add(l, r, "")?,
                    AluOp::Sub => b.build_int_sub(l, r, "")?,
                    AluOp::Mul => b.build_int_mul(l, r, "")?,
                    AluOp::UDiv => b.build_int_unsigned_div(l, r, "")?,
                    AluOp::SDiv => b.build_int_signed_div(l, r, "")?,
                    AluOp::UMod => b.build_int_unsigned_rem(l, r, "")?,
                    AluOp::SMod => b.build_int_signed_rem(l, r, "")?,
                    AluOp::And => b.build_and(l, r, "")?,
                    AluOp::Or => b.build_or(l, r, "")?,
                    _ => b.build_xor(l, r, "")?,
                }
            }
        };
        Ok(v)
    }

    /// A BPF division or modulo instruction by a register, as inline assembly.
    fn bpf_divide(
        &self,
        op: AluOp,
        l: IntValue<'ctx>,
        r: IntValue<'ctx>,
    ) -> Result<IntValue<'ctx>, CodegenError> {
        let asm = match op {
            AluOp::UDiv => "$0 /= $2",
            AluOp::SDiv => "$0 s/= $2",
            AluOp::UMod => "$0 %= $2",
            _ => "$0 s%= $2",
        };
        let ty = self
            .i64()
            .fn_type(&[self.i64().into(), self.i64().into()], false);
        let f =
            self.cx
                .create_inline_asm(ty, asm.into(), "=r,0,r".into(), false, false, None, false);
        let call = self
            .builder
            .build_indirect_call(ty, f, &[l.into(), r.into()], "")?;
        call_value(call.try_as_basic_value())
    }

    /// `v` truncated to `size` bytes, then extended back to 64 bits.
    fn extend(
        &self,
        v: IntValue<'ctx>,
        size: u8,
        signed: bool,
        truncate: bool,
    ) -> Result<IntValue<'ctx>, CodegenError> {
        if size >= 8 {
            return Ok(v);
        }
        let b = &self.builder;
        let narrow = if truncate {
            b.build_int_truncate(v, self.int(size)?, "")?
        } else {
            v
        };
        Ok(if signed {
            b.build_int_s_extend(narrow, self.i64(), "")?
        } else {
            b.build_int_z_extend(narrow, self.i64(), "")?
        })
    }

    fn int(&self, size: u8) -> Result<IntType<'ctx>, CodegenError> {
        Ok(match size {
            1 => self.cx.i8_type(),
            2 => self.cx.i16_type(),
            4 => self.cx.i32_type(),
            8 => self.cx.i64_type(),
            _ => return Err(CodegenError::Bug(format!("memory access of {size} bytes"))),
        })
    }

    /// The address `base + offset`.
    fn address(&self, base: Base, offset: i32) -> Result<PointerValue<'ctx>, CodegenError> {
        let ptr = match base {
            Base::Slot(s) => self.slot(s)?,
            Base::Reg(v) => {
                let ptr_ty = self.cx.ptr_type(AddressSpace::default());
                self.builder.build_int_to_ptr(self.read(v)?, ptr_ty, "")?
            }
        };
        self.offset(ptr, offset)
    }

    /// `ptr + offset` bytes.
    fn offset(
        &self,
        ptr: PointerValue<'ctx>,
        offset: i32,
    ) -> Result<PointerValue<'ctx>, CodegenError> {
        if offset == 0 {
            return Ok(ptr);
        }
        let index = self.imm(i64::from(offset));
        // SAFETY: a byte GEP only computes an address; it is dereferenced by the load, store
        // or helper the IR asked for, exactly as the direct backend would.
        Ok(unsafe {
            self.builder
                .build_gep(self.cx.i8_type(), ptr, &[index], "")?
        })
    }

    fn load(
        &self,
        base: Base,
        offset: i32,
        size: u8,
        signed: bool,
    ) -> Result<IntValue<'ctx>, CodegenError> {
        let ptr = self.address(base, offset)?;
        let value = self.builder.build_load(self.int(size)?, ptr, "")?;
        align(value.as_instruction_value(), size)?;
        self.extend(value.into_int_value(), size, signed, false)
    }

    fn store(&self, base: Base, offset: i32, size: u8, value: Operand) -> Result<(), CodegenError> {
        let ptr = self.address(base, offset)?;
        let mut v = self.operand(value)?;
        if size < 8 {
            v = self.builder.build_int_truncate(v, self.int(size)?, "")?;
        }
        let store = self.builder.build_store(ptr, v)?;
        align(Some(store), size)
    }

    fn call(&self, dst: Option<VReg>, helper: u32, args: &[Arg]) -> Result<(), CodegenError> {
        let ptr_ty = self.cx.ptr_type(AddressSpace::default());
        let mut types: Vec<BasicMetadataTypeEnum<'ctx>> = Vec::with_capacity(args.len());
        let mut values: Vec<BasicMetadataValueEnum<'ctx>> = Vec::with_capacity(args.len());
        for arg in args {
            let (ty, value): (BasicMetadataTypeEnum, BasicMetadataValueEnum) =
                match arg {
                    Arg::Val(op) => (self.i64().into(), self.operand(*op)?.into()),
                    Arg::Slot(s, off) => (ptr_ty.into(), self.offset(self.slot(*s)?, *off)?.into()),
                    Arg::Map(m) => {
                        let map = self.maps.get(m.0 as usize).ok_or_else(|| {
                            CodegenError::Bug(format!("map id {} out of range", m.0))
                        })?;
                        (ptr_ty.into(), map.as_pointer_value().into())
                    }
                    Arg::Func(n) => {
                        let callback = self.callbacks.get(*n as usize).ok_or_else(|| {
                            CodegenError::Bug(format!("callback {n} out of range"))
                        })?;
                        let address = callback.as_global_value().as_pointer_value();
                        (ptr_ty.into(), address.into())
                    }
                };
            types.push(ty);
            values.push(value);
        }
        let ty = self.i64().fn_type(&types, false);
        let callee = self.imm(i64::from(helper)).const_to_pointer(ptr_ty);
        let call = self.builder.build_indirect_call(ty, callee, &values, "")?;
        if let Some(d) = dst {
            self.def(d, call_value(call.try_as_basic_value())?)?;
        }
        Ok(())
    }
}

/// The `i64` a call returned.
fn call_value(v: ValueKind<'_>) -> Result<IntValue<'_>, CodegenError> {
    match v {
        ValueKind::Basic(v) => Ok(v.into_int_value()),
        ValueKind::Instruction(_) => Err(CodegenError::Bug("a call returned no value".into())),
    }
}

/// Gives a load or store the natural alignment of its `size`.
fn align(inst: Option<InstructionValue<'_>>, size: u8) -> Result<(), CodegenError> {
    let inst =
        inst.ok_or_else(|| CodegenError::Bug("memory access is not an instruction".into()))?;
    inst.set_alignment(u32::from(size))
        .map_err(|e| CodegenError::Bug(format!("alignment: {e}")))
}
