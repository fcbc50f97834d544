//! Reads the object LLVM emitted back into [`ProgramSpec`]s: for each IR function, the
//! bytes of its symbol in its section, and the `R_BPF_64_64` relocations inside them
//! against map globals. Any other relocation means LLVM's code depends on something the
//! ELF writer does not emit (a constant pool, a libcall): that is a compiler bug.

use crate::spec::ProgramSpec;
use crate::CodegenError;
use ebpfc_compiler::ir;
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};

/// `R_BPF_64_64`: a 64-bit immediate (`ld_imm64`) holding a symbol's address.
const R_BPF_64_64: u32 = 1;
/// Size of one instruction slot.
const INSN_SIZE: u64 = 8;

/// The programs of `module`, as compiled into `object`.
pub fn programs(object: &[u8], module: &ir::Module) -> Result<Vec<ProgramSpec>, CodegenError> {
    let file = object::File::parse(object).map_err(|e| bug(format!("unreadable object: {e}")))?;
    module
        .functions
        .iter()
        .map(|f| program(&file, f, module))
        .collect()
}

fn program(
    file: &object::File<'_>,
    f: &ir::Function,
    module: &ir::Module,
) -> Result<ProgramSpec, CodegenError> {
    let symbol = file
        .symbol_by_name(&f.name)
        .ok_or_else(|| bug(format!("no symbol `{}` in LLVM's object", f.name)))?;
    let index = symbol
        .section_index()
        .ok_or_else(|| bug(format!("symbol `{}` has no section", f.name)))?;
    let section = file
        .section_by_index(index)
        .map_err(|e| bug(format!("section of `{}`: {e}", f.name)))?;
    let (start, end) = (symbol.address(), symbol.address() + symbol.size());
    let code = section
        .data_range(start, symbol.size())
        .ok()
        .flatten()
        .ok_or_else(|| bug(format!("code of `{}` is outside its section", f.name)))?
        .to_vec();
    let map_relocs = section
        .relocations()
        .filter(|(at, _)| (start..end).contains(at))
        .map(|(at, r)| map_reloc(file, module, &f.name, (at - start) / INSN_SIZE, &r))
        .collect::<Result<_, _>>()?;
    Ok(ProgramSpec {
        name: f.name.clone(),
        section: f.section.clone(),
        code,
        map_relocs,
    })
}

/// The (instruction index, map name) of a relocation that must load a map's address.
fn map_reloc(
    file: &object::File<'_>,
    module: &ir::Module,
    program: &str,
    insn: u64,
    reloc: &object::Relocation,
) -> Result<(usize, String), CodegenError> {
    let symbol = match reloc.target() {
        RelocationTarget::Symbol(s) => file.symbol_by_index(s).ok(),
        _ => None,
    };
    let name = symbol.and_then(|s| s.name().ok()).unwrap_or("?");
    let is_map = module.maps.iter().any(|m| m.name == name);
    let flags_ok = reloc.flags()
        == RelocationFlags::Elf {
            r_type: R_BPF_64_64,
        };
    if !is_map || !flags_ok || reloc.addend() != 0 {
        return Err(bug(format!(
            "LLVM emitted relocation {:?} against `{name}` at instruction {insn} of `{program}`; only map references are supported",
            reloc.flags()
        )));
    }
    Ok((insn as usize, name.to_string()))
}

fn bug(message: String) -> CodegenError {
    CodegenError::Bug(message)
}
