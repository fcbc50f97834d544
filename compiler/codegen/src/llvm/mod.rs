//! The LLVM backend: the typed IR lowered to LLVM IR through inkwell, optimized with
//! LLVM's `default<O2>` pipeline, compiled by LLVM's BPF target (`bpfel`, cpu `v4`), and
//! read back into the same [`ObjectSpec`] the direct backend builds, so the ELF writer and
//! the runtime see identical object structure whichever backend ran.
//!
//! Pipeline: [`lower`] (IR to LLVM IR) → [`target`] (optimize, emit an object, collect
//! LLVM's diagnostics) → [`readback`] (code bytes, map and callback relocations per
//! program and callback).
//!
//! Invariants: LLVM's object may hold only program and callback code, references to the
//! maps' globals and to the callbacks; any other relocation is reported as
//! [`CodegenError::Bug`]. LLVM errors never
//! reach LLVM's default handler (which would exit the process): they are collected by
//! [`target::Diagnostics`] and returned.

mod inst;
mod lower;
mod readback;
mod target;

use crate::spec::ObjectSpec;
use crate::CodegenError;
use ebpfc_compiler::ir;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;

impl From<inkwell::builder::BuilderError> for CodegenError {
    fn from(e: inkwell::builder::BuilderError) -> Self {
        CodegenError::Bug(format!("LLVM IR builder: {e}"))
    }
}

/// The optimized LLVM IR of `module`, as text (`--emit-llvm`, `--dump llvm`).
pub fn emit_llvm_ir(module: &ir::Module) -> Result<String, CodegenError> {
    with_optimized(module, |m, _| Ok(m.print_to_string().to_string()))
}

/// The object spec of `module` compiled by LLVM.
pub fn object_spec(module: &ir::Module) -> Result<ObjectSpec, CodegenError> {
    let object = with_optimized(module, target::emit_object)?;
    let (programs, callbacks) = readback::programs(&object, module)?;
    Ok(ObjectSpec::for_module(module, programs, callbacks))
}

/// Lowers and optimizes `module`, then runs `then` on the result; fails if LLVM reported
/// an error at any point.
fn with_optimized<R>(
    module: &ir::Module,
    then: impl FnOnce(&Module<'_>, &TargetMachine) -> Result<R, CodegenError>,
) -> Result<R, CodegenError> {
    // Declared before the context so that it outlives it: the context points at it.
    let diagnostics = target::Diagnostics::default();
    let context = Context::create();
    diagnostics.install(&context);
    let machine = target::machine()?;
    let llvm = lower::module(&context, module, &machine)?;
    llvm.verify()
        .map_err(|e| CodegenError::Bug(format!("invalid LLVM IR: {}", e.to_string())))?;
    target::optimize(&llvm, &machine)?;
    diagnostics.check()?;
    let result = then(&llvm, &machine)?;
    diagnostics.check()?;
    Ok(result)
}
