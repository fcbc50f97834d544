//! LLVM's BPF target: the target machine (`bpfel`, cpu `v4` for signed division and
//! sign-extending moves), the `default<O2>` pass pipeline, object emission, and a
//! diagnostic handler that collects LLVM's errors instead of letting LLVM exit the process.

use crate::bytecode::select::STACK_LIMIT;
use crate::CodegenError;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::OptimizationLevel;
use llvm_sys::core::{
    LLVMContextSetDiagnosticHandler, LLVMDisposeMessage, LLVMGetDiagInfoDescription,
    LLVMGetDiagInfoSeverity,
};
use llvm_sys::prelude::LLVMDiagnosticInfoRef;
use llvm_sys::LLVMDiagnosticSeverity;
use std::cell::RefCell;
use std::ffi::{c_void, CStr};
use std::sync::Once;

/// The target triple of every object.
pub const TRIPLE: &str = "bpfel";
/// The BPF ISA version: v4 has signed division and sign-extending loads and moves.
pub const CPU: &str = "v4";
/// The optimization pipeline run on every module.
pub const PIPELINE: &str = "default<O2>";

/// A BPF target machine.
pub fn machine() -> Result<TargetMachine, CodegenError> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        Target::initialize_bpf(&InitializationConfig::default());
        // SAFETY: registers the BPF assembly parser (for the division inline assembly),
        // which inkwell does not; called once, after the target itself is registered.
        unsafe { llvm_sys::target::LLVMInitializeBPFAsmParser() };
        // Branches are not folded into selects with the loads they guard: byte-by-byte
        // string compares would otherwise load every byte up front and spill them past
        // the 512-byte stack.
        let args = [
            c"ebpfc".as_ptr(),
            c"-simplifycfg-branch-fold-threshold=0".as_ptr(),
        ];
        // SAFETY: two valid NUL-terminated arguments, parsed once before any other use
        // of LLVM's options.
        unsafe {
            llvm_sys::support::LLVMParseCommandLineOptions(2, args.as_ptr(), std::ptr::null())
        };
    });
    let triple = TargetTriple::create(TRIPLE);
    let target = Target::from_triple(&triple)
        .map_err(|e| CodegenError::Bug(format!("LLVM BPF target: {}", e.to_string())))?;
    target
        .create_target_machine(
            &triple,
            CPU,
            "",
            OptimizationLevel::Default,
            RelocMode::Default,
            CodeModel::Default,
        )
        .ok_or_else(|| CodegenError::Bug("LLVM could not create a BPF target machine".into()))
}

/// Runs the optimization pipeline over `module`.
pub fn optimize(module: &Module<'_>, machine: &TargetMachine) -> Result<(), CodegenError> {
    module
        .run_passes(PIPELINE, machine, PassBuilderOptions::create())
        .map_err(|e| CodegenError::Bug(format!("LLVM passes: {}", e.to_string())))
}

/// Compiles `module` to a relocatable BPF ELF object.
pub fn emit_object(module: &Module<'_>, machine: &TargetMachine) -> Result<Vec<u8>, CodegenError> {
    machine
        .write_to_memory_buffer(module, FileType::Object)
        .map(|buffer| buffer.as_slice().to_vec())
        .map_err(|e| CodegenError::Bug(format!("LLVM code generation: {}", e.to_string())))
}

/// The errors LLVM reported through a context's diagnostic handler.
#[derive(Default)]
pub struct Diagnostics {
    errors: RefCell<Vec<String>>,
}

impl Diagnostics {
    /// Routes `context`'s diagnostics to `self`. `self` must outlive `context`.
    pub fn install(&self, context: &Context) {
        let sink = self as *const Diagnostics as *mut c_void;
        // SAFETY: the handler only reads `sink` as a `&Diagnostics`, which the caller keeps
        // alive for as long as the context exists.
        unsafe { LLVMContextSetDiagnosticHandler(context.raw(), Some(on_diagnostic), sink) };
    }

    /// Fails with the errors reported so far, if any.
    pub fn check(&self) -> Result<(), CodegenError> {
        let mut errors = std::mem::take(&mut *self.errors.borrow_mut());
        errors.dedup();
        match errors.iter().find(|e| e.contains("stack limit")) {
            Some(stack) => Err(stack_error(stack)),
            None if errors.is_empty() => Ok(()),
            None => Err(CodegenError::Bug(format!("LLVM: {}", errors.join("; ")))),
        }
    }
}

/// The user error for LLVM's "stack limit exceeded" diagnostic, which names the function.
fn stack_error(diagnostic: &str) -> CodegenError {
    let probe = diagnostic
        .split("in function ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?");
    CodegenError::User(format!(
        "probe '{probe}' needs more than {STACK_LIMIT} bytes of stack under the LLVM backend; use fewer or shorter strings, tuples or printf arguments in one probe"
    ))
}

/// Records an error diagnostic in the [`Diagnostics`] behind `sink`; ignores the others.
extern "C" fn on_diagnostic(info: LLVMDiagnosticInfoRef, sink: *mut c_void) {
    // SAFETY: LLVM passes a valid diagnostic; `sink` is the `Diagnostics` registered by
    // `install`, still alive. The description is an LLVM-allocated C string freed here.
    unsafe {
        if LLVMGetDiagInfoSeverity(info) != LLVMDiagnosticSeverity::LLVMDSError {
            return;
        }
        let raw = LLVMGetDiagInfoDescription(info);
        let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
        LLVMDisposeMessage(raw);
        let diagnostics = &*(sink as *const Diagnostics);
        if let Ok(mut errors) = diagnostics.errors.try_borrow_mut() {
            errors.push(text);
        }
    }
}
