//! Code generation: typed IR to eBPF, and the ELF object writer shared by both backends.
//!
//! [`emit`] is the one entry point: IR in, ELF bytes out.

pub mod btf;
pub mod bytecode;
pub mod elf;
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
    let spec = match backend {
        Backend::Bytecode => bytecode::object_spec(module, bytecode::compile(module)?),
        Backend::Llvm => {
            return Err(CodegenError::User(
                "the LLVM backend is not available in this build; rebuild with `cargo build --features llvm`".into(),
            ))
        }
    };
    elf::write_object(&spec).map_err(|e| CodegenError::Bug(e.to_string()))
}

/// A readable disassembly of every program (`--dump asm`).
pub fn disassemble(module: &Module) -> Result<String, CodegenError> {
    let mut out = String::new();
    for p in bytecode::compile(module)? {
        out.push_str(&format!("{} [{}]:\n", p.name, p.section));
        out.push_str(&bytecode::insn::disassemble(&p.insns));
    }
    Ok(out)
}
