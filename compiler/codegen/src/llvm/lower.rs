//! IR to LLVM IR: one global per map in `.maps`, one function `i64 name(ptr ctx)` per
//! IR function, placed in the function's section, and one internal function
//! `i64 name(ptr map, ptr key, ptr value, ptr ctx)` in `.text` per callback, whose
//! address the helper calls that take it receive.
//!
//! Every vreg is an `i64` alloca, promoted to SSA by the optimizer. Every slot is an
//! 8-byte-aligned `[N x i8]` alloca when all slots together fit the BPF stack; otherwise
//! the slots share one frame alloca laid out as the direct backend lays out its frame
//! (slots with disjoint lifetimes share bytes). The allocas live in an `entry` block that
//! jumps to IR block 0; each IR block becomes one LLVM block of the same index.

use super::inst::Lowering;
use crate::bytecode::frame;
use crate::bytecode::select::STACK_LIMIT;
use crate::CodegenError;
use ebpfc_compiler::ir::{self, Cmp, Term};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::targets::TargetMachine;
use inkwell::values::{FunctionValue, GlobalValue, PointerValue};
use inkwell::AddressSpace;
use inkwell::IntPredicate;

/// Bytes reserved for each map's global (libbpf's map definition has at most 8 pointers).
const MAP_GLOBAL_SIZE: u32 = 64;

/// The LLVM module of `ir`, for `machine`'s triple and data layout.
pub fn module<'ctx>(
    cx: &'ctx Context,
    ir: &ir::Module,
    machine: &TargetMachine,
) -> Result<Module<'ctx>, CodegenError> {
    let module = cx.create_module("ebpfc");
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let maps: Vec<_> = ir
        .maps
        .iter()
        .map(|m| map_global(cx, &module, &m.name))
        .collect();
    for f in &ir.functions {
        let callbacks: Vec<_> = f
            .callbacks
            .iter()
            .map(|c| declare(cx, &module, c, CALLBACK_PARAMS))
            .collect();
        let program = declare(cx, &module, f, 1);
        let refs = Refs {
            maps: &maps,
            callbacks: &callbacks,
        };
        function(cx, &refs, f, program)?;
        for (c, value) in f.callbacks.iter().zip(&callbacks) {
            value.set_linkage(Linkage::Internal);
            function(cx, &refs, c, *value)?;
        }
    }
    Ok(module)
}

/// Parameters of a callback: map, key, value, context.
const CALLBACK_PARAMS: usize = 4;

/// What a function's instructions may refer to besides its own values.
pub struct Refs<'a, 'ctx> {
    pub maps: &'a [GlobalValue<'ctx>],
    /// The program's callbacks, in `Arg::Func` order.
    pub callbacks: &'a [FunctionValue<'ctx>],
}

/// `i64 name(ptr, ...)` with `params` pointer parameters, in `f`'s section.
fn declare<'ctx>(
    cx: &'ctx Context,
    module: &Module<'ctx>,
    f: &ir::Function,
    params: usize,
) -> FunctionValue<'ctx> {
    let ptr = cx.ptr_type(AddressSpace::default());
    let types = vec![ptr.into(); params];
    let func = module.add_function(&f.name, cx.i64_type().fn_type(&types, false), None);
    func.set_section(Some(&f.section));
    func
}

/// A zero-filled global in `.maps` whose address the helpers receive for map `name`.
fn map_global<'ctx>(cx: &'ctx Context, module: &Module<'ctx>, name: &str) -> GlobalValue<'ctx> {
    let ty = cx.i8_type().array_type(MAP_GLOBAL_SIZE);
    let global = module.add_global(ty, None, name);
    global.set_initializer(&ty.const_zero());
    global.set_section(Some(crate::elf::MAPS_SECTION));
    global.set_alignment(8);
    global.set_linkage(Linkage::External);
    global
}

fn function<'ctx>(
    cx: &'ctx Context,
    refs: &Refs<'_, 'ctx>,
    f: &ir::Function,
    func: FunctionValue<'ctx>,
) -> Result<(), CodegenError> {
    let entry = cx.append_basic_block(func, "entry");
    let blocks: Vec<BasicBlock<'ctx>> = (0..f.blocks.len())
        .map(|i| cx.append_basic_block(func, &format!("b{i}")))
        .collect();
    let builder = cx.create_builder();
    builder.position_at_end(entry);
    let vregs = (0..f.vregs)
        .map(|i| builder.build_alloca(cx.i64_type(), &format!("v{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let slots = slots(cx, &builder, f)?;
    let first = blocks
        .first()
        .ok_or_else(|| CodegenError::Bug(format!("function `{}` has no blocks", f.name)))?;
    builder.build_unconditional_branch(*first)?;
    let params = func
        .get_param_iter()
        .map(|p| p.into_pointer_value())
        .collect();
    let l = Lowering {
        cx,
        builder,
        maps: refs.maps,
        callbacks: refs.callbacks,
        vregs,
        slots,
        params,
    };
    for (block, llvm_block) in f.blocks.iter().zip(&blocks) {
        l.builder.position_at_end(*llvm_block);
        for inst in &block.insts {
            l.inst(inst)?;
        }
        term(&l, &block.term, &blocks)?;
    }
    Ok(())
}

fn slots<'ctx>(
    cx: &'ctx Context,
    builder: &Builder<'ctx>,
    f: &ir::Function,
) -> Result<Vec<PointerValue<'ctx>>, CodegenError> {
    let sum: u64 = f.slots.iter().map(|s| u64::from(s.size)).sum();
    if sum > STACK_LIMIT as u64 {
        return shared_frame(cx, builder, f);
    }
    f.slots
        .iter()
        .enumerate()
        .map(|(i, slot)| aligned_alloca(cx, builder, slot.size, &format!("slot{i}")))
        .collect()
}

/// One frame for all slots, at the direct backend's offsets: slots whose lifetimes do not
/// overlap share bytes.
fn shared_frame<'ctx>(
    cx: &'ctx Context,
    builder: &Builder<'ctx>,
    f: &ir::Function,
) -> Result<Vec<PointerValue<'ctx>>, CodegenError> {
    let (offsets, total) = frame::layout(f, &crate::bytecode::reachable(f));
    if total > STACK_LIMIT as u32 {
        return Err(CodegenError::User(format!(
            "probe '{}' needs {total} bytes of stack but eBPF allows {STACK_LIMIT}; use fewer or shorter strings, tuples or printf arguments in one probe",
            f.name
        )));
    }
    let base = aligned_alloca(cx, builder, total, "frame")?;
    offsets
        .iter()
        .zip(&f.slots)
        .map(|(offset, slot)| {
            // `layout` gives the offset of the slot's end below the frame's top; a slot
            // that is never referenced (offset 0) is placed at the frame's start.
            let low = u64::try_from(-offset)
                .unwrap_or(0)
                .saturating_sub(u64::from(slot.size));
            let index = cx.i64_type().const_int(low, false);
            // SAFETY: a constant byte offset inside the frame alloca (`low + size <= total`).
            let ptr = unsafe { builder.build_in_bounds_gep(cx.i8_type(), base, &[index], "") };
            Ok(ptr?)
        })
        .collect()
}

/// An 8-byte-aligned `[size x i8]` alloca.
fn aligned_alloca<'ctx>(
    cx: &'ctx Context,
    builder: &Builder<'ctx>,
    size: u32,
    name: &str,
) -> Result<PointerValue<'ctx>, CodegenError> {
    let alloca = builder.build_alloca(cx.i8_type().array_type(size), name)?;
    if let Some(inst) = alloca.as_instruction() {
        inst.set_alignment(8)
            .map_err(|e| CodegenError::Bug(format!("slot alignment: {e}")))?;
    }
    Ok(alloca)
}

fn term<'ctx>(
    l: &Lowering<'_, 'ctx>,
    term: &Term,
    blocks: &[BasicBlock<'ctx>],
) -> Result<(), CodegenError> {
    let block = |b: ir::BlockId| {
        blocks
            .get(b.0 as usize)
            .copied()
            .ok_or_else(|| CodegenError::Bug(format!("jump to missing block {}", b.0)))
    };
    match term {
        Term::Jump(b) => {
            l.builder.build_unconditional_branch(block(*b)?)?;
        }
        Term::Branch {
            cond,
            lhs,
            rhs,
            then,
            otherwise,
        } => {
            let c = l.compare(*cond, *lhs, *rhs)?;
            l.builder
                .build_conditional_branch(c, block(*then)?, block(*otherwise)?)?;
        }
        Term::Return(v) => {
            let v = l.operand(*v)?;
            l.builder.build_return(Some(&v))?;
        }
    }
    Ok(())
}

/// The LLVM predicate of an IR comparison.
pub fn predicate(cond: Cmp) -> IntPredicate {
    match cond {
        Cmp::Eq => IntPredicate::EQ,
        Cmp::Ne => IntPredicate::NE,
        Cmp::ULt => IntPredicate::ULT,
        Cmp::ULe => IntPredicate::ULE,
        Cmp::UGt => IntPredicate::UGT,
        Cmp::UGe => IntPredicate::UGE,
        Cmp::SLt => IntPredicate::SLT,
        Cmp::SLe => IntPredicate::SLE,
        Cmp::SGt => IntPredicate::SGT,
        Cmp::SGe => IntPredicate::SGE,
    }
}
