//! Code generation: typed IR to eBPF, and the ELF object writer shared by both backends.
//!
//! [`emit`] is the one entry point: IR in, ELF bytes out.

pub mod btf;
pub mod btf_ext;
pub mod bytecode;
pub mod elf;
#[cfg(feature = "llvm")]
pub mod llvm;
pub mod spec;

use ebpfc_compiler::ir::Module;

/// Why code generation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    /// The program cannot be expressed within eBPF's limits (the user can fix it).
    #[error("{0}")]
    User(String),
    /// An internal invariant broke.
    #[error("internal code generation error: {0}")]
    Bug(String),
}

/// Which backend lowers the IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Bytecode,
    Llvm,
}

/// Compiles `module` to an ELF object.
pub fn emit(module: &Module, backend: Backend) -> Result<Vec<u8>, CodegenError> {
    let spec = object_spec(module, backend)?;
    elf::write_object(&spec).map_err(|e| CodegenError::Bug(e.to_string()))
}

/// The programs, maps and metadata `backend` produces for `module`.
pub fn object_spec(module: &Module, backend: Backend) -> Result<spec::ObjectSpec, CodegenError> {
    match backend {
        Backend::Bytecode => Ok(bytecode::object_spec(module, bytecode::compile(module)?)),
        #[cfg(feature = "llvm")]
        Backend::Llvm => llvm::object_spec(module),
        #[cfg(not(feature = "llvm"))]
        Backend::Llvm => Err(llvm_unavailable()),
    }
}

/// The textual LLVM IR of `module` after optimization (`--emit-llvm`, `--dump llvm`).
pub fn emit_llvm_ir(module: &Module) -> Result<String, CodegenError> {
    #[cfg(feature = "llvm")]
    return llvm::emit_llvm_ir(module);
    #[cfg(not(feature = "llvm"))]
    {
        let _ = module;
        Err(llvm_unavailable())
    }
}

#[cfg(not(feature = "llvm"))]
fn llvm_unavailable() -> CodegenError {
    CodegenError::User(
        "the LLVM backend is not available in this build; rebuild with `cargo build --features llvm`".into(),
    )
}

/// Each program's name and its number of 8-byte instruction slots (`ld_imm64` counts
/// twice) under `backend`.
pub fn instruction_counts(
    module: &Module,
    backend: Backend,
) -> Result<Vec<(String, usize)>, CodegenError> {
    let spec = object_spec(module, backend)?;
    Ok(spec
        .programs
        .into_iter()
        .map(|p| (p.name, p.code.len() / 8))
        .collect())
}

/// A readable disassembly of every program (`--dump asm`).
pub fn disassemble(module: &Module) -> Result<String, CodegenError> {
    let mut out = String::new();
    for p in bytecode::compile(module)? {
        for f in std::iter::once(&p).chain(&p.callbacks) {
            out.push_str(&format!("{} [{}]:\n", f.name, f.section));
            out.push_str(&bytecode::insn::disassemble(&f.insns));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "llvm"))]
    #[test]
    fn llvm_backend_without_the_feature_says_how_to_build_it() {
        let err = emit(&Module::default(), Backend::Llvm).unwrap_err();
        let hint = matches!(&err, CodegenError::User(m) if m.contains("--features llvm"));
        assert!(hint, "{err}");
    }

    #[test]
    fn instruction_counts_of_an_empty_module_are_empty() {
        let counts = instruction_counts(&Module::default(), Backend::Bytecode).unwrap();
        assert!(counts.is_empty());
    }
}
