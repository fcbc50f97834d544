//! Reads the object LLVM emitted back into [`ProgramSpec`]s: for each IR function and
//! each of its callbacks, the bytes of its symbol in its section, and the `R_BPF_64_64`
//! relocations inside them: against map globals, or against a callback (its symbol, or
//! the `.text` section symbol with the callback's offset in the `ld_imm64` immediate, as
//! LLVM writes for an internal function). Callback references are re-expressed against
//! the callback's name with a zero immediate, as the ELF writer emits them. Any other
//! relocation means LLVM's code depends on something the ELF writer does not emit (a
//! constant pool, a libcall): that is a compiler bug.

use crate::spec::ProgramSpec;
use crate::CodegenError;
use ebpfc_compiler::ir;
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};

/// `R_BPF_64_64`: a 64-bit immediate (`ld_imm64`) holding a symbol's address.
const R_BPF_64_64: u32 = 1;
/// Size of one instruction slot.
const INSN_SIZE: u64 = 8;

/// The programs of `module` and their callbacks, as compiled into `object`.
pub fn programs(
    object: &[u8],
    module: &ir::Module,
) -> Result<(Vec<ProgramSpec>, Vec<ProgramSpec>), CodegenError> {
    let file = object::File::parse(object).map_err(|e| bug(format!("unreadable object: {e}")))?;
    let mut programs = Vec::with_capacity(module.functions.len());
    let mut callbacks = Vec::new();
    for f in &module.functions {
        let read = Reader {
            file: &file,
            module,
            callbacks: &f.callbacks,
        };
        programs.push(read.function(f)?);
        for c in &f.callbacks {
            callbacks.push(read.function(c)?);
        }
    }
    Ok((programs, callbacks))
}

/// Reads the functions of one program.
struct Reader<'a, 'data> {
    file: &'a object::File<'data>,
    module: &'a ir::Module,
    /// The program's callbacks.
    callbacks: &'a [ir::Function],
}

/// What a relocation refers to.
enum Target {
    Map(String),
    Callback(String),
}

impl Reader<'_, '_> {
    fn function(&self, f: &ir::Function) -> Result<ProgramSpec, CodegenError> {
        let symbol = self
            .file
            .symbol_by_name(&f.name)
            .ok_or_else(|| bug(format!("no symbol `{}` in LLVM's object", f.name)))?;
        let index = symbol
            .section_index()
            .ok_or_else(|| bug(format!("symbol `{}` has no section", f.name)))?;
        let section = self
            .file
            .section_by_index(index)
            .map_err(|e| bug(format!("section of `{}`: {e}", f.name)))?;
        let (start, end) = (symbol.address(), symbol.address() + symbol.size());
        let mut code = section
            .data_range(start, symbol.size())
            .ok()
            .flatten()
            .ok_or_else(|| bug(format!("code of `{}` is outside its section", f.name)))?
            .to_vec();
        let mut spec = ProgramSpec {
            name: f.name.clone(),
            section: f.section.clone(),
            ..ProgramSpec::default()
        };
        for (at, reloc) in section.relocations() {
            if !(start..end).contains(&at) {
                continue;
            }
            let insn = ((at - start) / INSN_SIZE) as usize;
            match self.target(&f.name, insn, &code, &reloc)? {
                Target::Map(name) => spec.map_relocs.push((insn, name)),
                Target::Callback(name) => {
                    // The callback's symbol now carries the address: the immediate is 0.
                    let imm = insn * INSN_SIZE as usize + 4;
                    code[imm..imm + 4].fill(0);
                    spec.func_relocs.push((insn, name));
                }
            }
        }
        spec.code = code;
        Ok(spec)
    }

    /// The map or callback a relocation at instruction `insn` of `program` refers to.
    fn target(
        &self,
        program: &str,
        insn: usize,
        code: &[u8],
        reloc: &object::Relocation,
    ) -> Result<Target, CodegenError> {
        let symbol = match reloc.target() {
            RelocationTarget::Symbol(s) => self.file.symbol_by_index(s).ok(),
            _ => None,
        };
        let name = symbol.as_ref().and_then(|s| s.name().ok()).unwrap_or("?");
        let flags_ok = reloc.flags()
            == RelocationFlags::Elf {
                r_type: R_BPF_64_64,
            };
        let on_ld_imm64 = code.len() >= (insn + 2) * INSN_SIZE as usize;
        if flags_ok && on_ld_imm64 && reloc.addend() == 0 {
            if self.module.maps.iter().any(|m| m.name == name) {
                return Ok(Target::Map(name.to_string()));
            }
            if let Some(callback) = symbol.and_then(|s| self.callback_at(&s, code, insn)) {
                return Ok(Target::Callback(callback));
            }
        }
        Err(bug(format!(
            "LLVM emitted relocation {:?} against `{name}` at instruction {insn} of `{program}`; only map and callback references are supported",
            reloc.flags()
        )))
    }

    /// The callback `symbol` designates: a callback's own symbol, or its section's
    /// symbol with the callback's offset in the immediate at instruction `insn`.
    fn callback_at(
        &self,
        symbol: &object::Symbol<'_, '_>,
        code: &[u8],
        insn: usize,
    ) -> Option<String> {
        let name = symbol.name().ok()?;
        if self.callbacks.iter().any(|c| c.name == name) {
            return Some(name.to_string());
        }
        if symbol.kind() != object::SymbolKind::Section {
            return None;
        }
        let at = insn * INSN_SIZE as usize + 4;
        let imm = u32::from_le_bytes(code.get(at..at + 4)?.try_into().ok()?);
        let offset = symbol.address() + u64::from(imm);
        let section = symbol.section_index()?;
        self.callbacks
            .iter()
            .find(|c| {
                self.file
                    .symbol_by_name(&c.name)
                    .is_some_and(|s| s.section_index() == Some(section) && s.address() == offset)
            })
            .map(|c| c.name.clone())
    }
}

fn bug(message: String) -> CodegenError {
    CodegenError::Bug(message)
}
