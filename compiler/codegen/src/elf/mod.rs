//! ELF object writer: turns an [`ObjectSpec`] into a relocatable little-endian eBPF object
//! (`EM_BPF`) that both libbpf and aya load.
//!
//! Layout of the object:
//! - one executable section per distinct [`ProgramSpec::section`]; programs sharing a section
//!   name are placed back to back in it, each with a GLOBAL FUNC symbol at its offset;
//! - `license` holding `GPL\0` with a GLOBAL OBJECT symbol [`LICENSE_SYMBOL`];
//! - `.maps` (only when there are maps): zero bytes, one GLOBAL OBJECT symbol per map, laid
//!   out as libbpf's BTF map definitions (one 8-byte pointer per `__uint` field);
//! - `.text` (only when there are callbacks): every callback, each with a GLOBAL, hidden
//!   FUNC symbol at its offset (libbpf looks for subprograms in `.text`);
//! - `.BTF`: the map definition structs, their VARs and the `.maps` DATASEC, plus a global
//!   `int name(void *ctx)` FUNC per program and a static
//!   `long name(void *map, void *key, void *value, void *ctx)` FUNC per callback;
//! - `.BTF.ext` (only when there are callbacks): the func_info of every program and
//!   callback, which the kernel requires of programs that load a callback's address;
//! - [`METADATA_SECTION`] (non-allocated) with [`ObjectSpec::metadata`].
//!
//! Each map relocation becomes an `R_BPF_64_64` REL entry on the `ld_imm64` instruction,
//! against the map's symbol; each callback reference one against the callback's symbol
//! (the instruction's immediate stays 0), as clang emits for a global function. Every
//! inconsistency in the spec is an [`ElfError`]: they are compiler bugs, never user
//! errors.

use std::collections::{HashMap, HashSet};

use object::write::{Object, Relocation, SectionId, Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

mod btf;

use crate::btf::BtfError;
use crate::spec::{MapSpec, ObjectSpec, ProgramSpec};
use ebpfc_compiler::ir::CALLBACK_SECTION;

/// Name of the section holding [`ObjectSpec::metadata`].
pub const METADATA_SECTION: &str = ".ebpfc";
/// Name of the section holding BTF-defined maps.
pub const MAPS_SECTION: &str = ".maps";
/// Name of the license section.
pub const LICENSE_SECTION: &str = "license";
/// Name of the symbol defined over the license string.
pub const LICENSE_SYMBOL: &str = "LICENSE";
/// Contents of the license section.
pub const LICENSE: &[u8] = b"GPL\0";

/// Size of one eBPF instruction slot.
const INSN_SIZE: usize = 8;
/// Opcode of `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`).
const LD_IMM64: u8 = 0x18;
/// Size of one field of a BTF map definition: a pointer.
const MAP_FIELD_SIZE: u32 = 8;

/// The spec handed to [`write_object`] is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("program `{program}` has no instructions")]
    EmptyProgram { program: String },
    #[error("program `{program}`: code is {len} bytes, not a whole number of instructions")]
    PartialInstruction { program: String, len: usize },
    #[error("program `{program}`: relocation at instruction {insn} names unknown map `{map}`")]
    UnknownMap {
        program: String,
        insn: usize,
        map: String,
    },
    #[error(
        "program `{program}`: relocation at instruction {insn} names unknown callback `{callback}`"
    )]
    UnknownCallback {
        program: String,
        insn: usize,
        callback: String,
    },
    #[error("program `{program}`: relocation at instruction {insn} is not on an ld_imm64")]
    NotLdImm64 { program: String, insn: usize },
    #[error("symbol `{0}` is defined more than once")]
    DuplicateSymbol(String),
    #[error("`{0}` is not a valid C identifier for a program or map name")]
    InvalidName(String),
    #[error("invalid program section name {0:?}")]
    InvalidSection(String),
    #[error("the `.maps` section would exceed 4 GiB")]
    MapsTooLarge,
    #[error("BTF encoding failed: {0}")]
    Btf(#[from] BtfError),
    #[error("ELF writer failed: {0}")]
    Write(#[from] object::write::Error),
}

/// Writes `spec` as an eBPF ELF object.
pub fn write_object(spec: &ObjectSpec) -> Result<Vec<u8>, ElfError> {
    validate(spec)?;
    let layout = MapLayout::new(&spec.maps)?;
    let btf = btf::encode_btf(spec, &layout)?;

    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let mut symbols = add_maps(&mut obj, &spec.maps, &layout);
    let placed = place_functions(&mut obj, spec, &mut symbols);
    for (prog, &(section, base)) in spec.programs.iter().chain(&spec.callbacks).zip(&placed) {
        add_relocs(&mut obj, section, base, prog, &symbols)?;
    }
    add_license(&mut obj);
    add_plain_section(&mut obj, ".BTF", &btf.types, 4);
    if let Some(ext) = &btf.ext {
        add_plain_section(&mut obj, ".BTF.ext", ext, 4);
    }
    add_plain_section(&mut obj, METADATA_SECTION, &spec.metadata, 8);
    Ok(obj.write()?)
}

// ---------------------------------------------------------------------------------------------
// Validation

fn validate(spec: &ObjectSpec) -> Result<(), ElfError> {
    let mut names = HashSet::from([LICENSE_SYMBOL]);
    let map_names = spec.maps.iter().map(|m| m.name.as_str());
    let functions = spec.programs.iter().chain(&spec.callbacks);
    for name in map_names.chain(functions.map(|p| p.name.as_str())) {
        if !is_identifier(name) {
            return Err(ElfError::InvalidName(name.to_owned()));
        }
        if !names.insert(name) {
            return Err(ElfError::DuplicateSymbol(name.to_owned()));
        }
    }
    let known = Known {
        maps: spec.maps.iter().map(|m| m.name.as_str()).collect(),
        callbacks: spec.callbacks.iter().map(|c| c.name.as_str()).collect(),
    };
    for prog in &spec.programs {
        if !is_program_section(&prog.section) {
            return Err(ElfError::InvalidSection(prog.section.clone()));
        }
        validate_program(prog, &known)?;
    }
    for callback in &spec.callbacks {
        if callback.section != CALLBACK_SECTION {
            return Err(ElfError::InvalidSection(callback.section.clone()));
        }
        validate_program(callback, &known)?;
    }
    Ok(())
}

/// The maps and callbacks relocations may name.
struct Known<'a> {
    maps: HashSet<&'a str>,
    callbacks: HashSet<&'a str>,
}

fn validate_program(prog: &ProgramSpec, known: &Known<'_>) -> Result<(), ElfError> {
    let program = || prog.name.clone();
    if prog.code.is_empty() {
        return Err(ElfError::EmptyProgram { program: program() });
    }
    if !prog.code.len().is_multiple_of(INSN_SIZE) {
        return Err(ElfError::PartialInstruction {
            program: program(),
            len: prog.code.len(),
        });
    }
    for (insn, map) in &prog.map_relocs {
        if !known.maps.contains(map.as_str()) {
            let (insn, map) = (*insn, map.clone());
            return Err(ElfError::UnknownMap {
                program: program(),
                insn,
                map,
            });
        }
        check_ld_imm64(prog, *insn)?;
    }
    for (insn, callback) in &prog.func_relocs {
        if !known.callbacks.contains(callback.as_str()) {
            let (insn, callback) = (*insn, callback.clone());
            return Err(ElfError::UnknownCallback {
                program: program(),
                insn,
                callback,
            });
        }
        check_ld_imm64(prog, *insn)?;
    }
    Ok(())
}

/// A relocation must sit on an `ld_imm64`, which occupies two slots.
fn check_ld_imm64(prog: &ProgramSpec, insn: usize) -> Result<(), ElfError> {
    let slots = prog.code.len() / INSN_SIZE;
    if insn + 1 >= slots || prog.code[insn * INSN_SIZE] != LD_IMM64 {
        return Err(ElfError::NotLdImm64 {
            program: prog.name.clone(),
            insn,
        });
    }
    Ok(())
}

/// What the kernel's BTF checker accepts for VAR and FUNC names (length aside).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A program section must not collide with the sections loaders give another meaning to
/// (`.text`, `.maps`, `license`, `version`, legacy `maps`, ...).
fn is_program_section(name: &str) -> bool {
    const RESERVED: [&str; 4] = [".", LICENSE_SECTION, "version", "maps"];
    !name.is_empty() && !name.contains('\0') && !RESERVED.iter().any(|r| name.starts_with(r))
}

// ---------------------------------------------------------------------------------------------
// Map definitions

/// Where each map's definition sits in `.maps`.
struct MapLayout {
    /// (offset, size) per map, in spec order.
    slots: Vec<(u32, u32)>,
    total: u32,
}

impl MapLayout {
    fn new(maps: &[MapSpec]) -> Result<Self, ElfError> {
        let mut slots = Vec::with_capacity(maps.len());
        let mut total: u32 = 0;
        for map in maps {
            let size = map_fields(map).len() as u32 * MAP_FIELD_SIZE;
            slots.push((total, size));
            total = total.checked_add(size).ok_or(ElfError::MapsTooLarge)?;
        }
        Ok(Self { slots, total })
    }
}

/// The `__uint(field, value)` members of a map definition, in libbpf's order.
fn map_fields(map: &MapSpec) -> Vec<(&'static str, u32)> {
    let mut fields = vec![("type", map.map_type)];
    if map.key_size != 0 {
        fields.push(("key_size", map.key_size));
    }
    if map.value_size != 0 {
        fields.push(("value_size", map.value_size));
    }
    fields.push(("max_entries", map.max_entries));
    fields.push(("map_flags", map.flags));
    fields
}

fn add_maps(
    obj: &mut Object<'_>,
    maps: &[MapSpec],
    layout: &MapLayout,
) -> HashMap<String, SymbolId> {
    if maps.is_empty() {
        return HashMap::new();
    }
    let section = obj.add_section(Vec::new(), MAPS_SECTION.into(), SectionKind::Data);
    obj.append_section_data(section, &vec![0; layout.total as usize], 8);
    let defined = maps
        .iter()
        .zip(&layout.slots)
        .map(|(map, &(offset, size))| {
            let symbol = define_symbol(
                obj,
                &map.name,
                section,
                offset.into(),
                size.into(),
                SymbolKind::Data,
            );
            (map.name.clone(), symbol)
        });
    defined.collect()
}

// ---------------------------------------------------------------------------------------------
// Programs

/// Places every program in its section and every callback in `.text`, each with its
/// symbol (added to `symbols`); the (section, offset) of each, programs first.
fn place_functions(
    obj: &mut Object<'_>,
    spec: &ObjectSpec,
    symbols: &mut HashMap<String, SymbolId>,
) -> Vec<(SectionId, u64)> {
    let mut sections: HashMap<&str, SectionId> = HashMap::new();
    let mut placed = Vec::with_capacity(spec.programs.len() + spec.callbacks.len());
    let functions = spec.programs.iter().map(|p| (p, SymbolScope::Dynamic));
    let callbacks = spec.callbacks.iter().map(|c| (c, SymbolScope::Linkage));
    for (prog, scope) in functions.chain(callbacks) {
        let section = *sections.entry(prog.section.as_str()).or_insert_with(|| {
            obj.add_section(
                Vec::new(),
                prog.section.as_bytes().to_vec(),
                SectionKind::Text,
            )
        });
        let base = obj.append_section_data(section, &prog.code, INSN_SIZE as u64);
        let size = prog.code.len() as u64;
        let symbol = obj.add_symbol(Symbol {
            name: prog.name.as_bytes().to_vec(),
            value: base,
            size,
            kind: SymbolKind::Text,
            scope,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
        symbols.insert(prog.name.clone(), symbol);
        placed.push((section, base));
    }
    placed
}

/// The map and callback relocations of `prog`, placed at `base` in `section`.
fn add_relocs(
    obj: &mut Object<'_>,
    section: SectionId,
    base: u64,
    prog: &ProgramSpec,
    symbols: &HashMap<String, SymbolId>,
) -> Result<(), ElfError> {
    for (insn, target) in prog.map_relocs.iter().chain(&prog.func_relocs) {
        let relocation = Relocation {
            offset: base + (insn * INSN_SIZE) as u64,
            // Presence was checked by `validate`.
            symbol: symbols[target],
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: object::elf::R_BPF_64_64,
            },
        };
        obj.add_relocation(section, relocation)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Other sections and symbols

fn add_license(obj: &mut Object<'_>) {
    let section = obj.add_section(Vec::new(), LICENSE_SECTION.into(), SectionKind::Data);
    obj.append_section_data(section, LICENSE, 1);
    define_symbol(
        obj,
        LICENSE_SYMBOL,
        section,
        0,
        LICENSE.len() as u64,
        SymbolKind::Data,
    );
}

/// A non-allocated PROGBITS section.
fn add_plain_section(obj: &mut Object<'_>, name: &str, data: &[u8], align: u64) {
    let section = obj.add_section(Vec::new(), name.into(), SectionKind::Other);
    obj.append_section_data(section, data, align);
}

/// A GLOBAL, default-visibility symbol defined in `section`.
fn define_symbol(
    obj: &mut Object<'_>,
    name: &str,
    section: SectionId,
    value: u64,
    size: u64,
    kind: SymbolKind,
) -> SymbolId {
    obj.add_symbol(Symbol {
        name: name.into(),
        value,
        size,
        kind,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(name: &str, key_size: u32) -> MapSpec {
        MapSpec {
            name: name.into(),
            map_type: 1,
            key_size,
            value_size: 8,
            max_entries: 16,
            flags: 0,
        }
    }

    fn prog(name: &str, code: Vec<u8>, map_relocs: Vec<(usize, String)>) -> ProgramSpec {
        ProgramSpec {
            name: name.into(),
            section: "perf_event".into(),
            code,
            map_relocs,
            func_relocs: Vec::new(),
        }
    }

    /// `r1 = map ll; exit`, three slots.
    fn ld_map_exit() -> Vec<u8> {
        let mut code = vec![0u8; 24];
        code[0] = LD_IMM64;
        code[1] = 0x11;
        code[16] = 0x95;
        code
    }

    fn spec(maps: Vec<MapSpec>, programs: Vec<ProgramSpec>) -> ObjectSpec {
        ObjectSpec {
            programs,
            maps,
            ..ObjectSpec::default()
        }
    }

    #[test]
    fn map_layout_omits_zero_key_and_value_sizes() {
        let ringbuf = MapSpec {
            key_size: 0,
            value_size: 0,
            ..map("rb", 0)
        };
        let layout = MapLayout::new(&[map("h", 8), ringbuf]).unwrap();
        assert_eq!(layout.slots, vec![(0, 40), (40, 24)]);
        assert_eq!(layout.total, 64);
    }

    #[test]
    fn unknown_map_is_reported() {
        let p = prog("p", ld_map_exit(), vec![(0, "nope".into())]);
        let err = write_object(&spec(vec![map("m", 4)], vec![p])).unwrap_err();
        assert!(matches!(err, ElfError::UnknownMap { ref map, insn: 0, .. } if map == "nope"));
    }

    #[test]
    fn reloc_must_target_an_ld_imm64() {
        for insn in [1, 2, 3] {
            let p = prog("p", ld_map_exit(), vec![(insn, "m".into())]);
            let err = write_object(&spec(vec![map("m", 4)], vec![p])).unwrap_err();
            assert!(
                matches!(err, ElfError::NotLdImm64 { insn: i, .. } if i == insn),
                "{err}"
            );
        }
    }

    #[test]
    fn code_must_be_whole_instructions() {
        let p = prog("p", vec![0x95; 12], vec![]);
        let err = write_object(&spec(vec![], vec![p])).unwrap_err();
        assert!(matches!(err, ElfError::PartialInstruction { len: 12, .. }));
        let p = prog("p", vec![], vec![]);
        assert!(matches!(
            write_object(&spec(vec![], vec![p])).unwrap_err(),
            ElfError::EmptyProgram { .. }
        ));
    }

    #[test]
    fn symbol_names_must_be_unique_identifiers() {
        let p = prog("m", ld_map_exit(), vec![]);
        let err = write_object(&spec(vec![map("m", 4)], vec![p])).unwrap_err();
        assert!(matches!(err, ElfError::DuplicateSymbol(ref n) if n == "m"));
        let p = prog(LICENSE_SYMBOL, ld_map_exit(), vec![]);
        assert!(matches!(
            write_object(&spec(vec![], vec![p])).unwrap_err(),
            ElfError::DuplicateSymbol(_)
        ));
        for bad in ["", "1x", "@x", "a-b"] {
            let err = write_object(&spec(vec![map(bad, 4)], vec![])).unwrap_err();
            assert!(matches!(err, ElfError::InvalidName(_)), "{bad:?}: {err}");
        }
    }

    #[test]
    fn reserved_section_names_are_rejected() {
        for section in ["", ".text", "license", "maps/legacy", "version", "a\0b"] {
            let p = ProgramSpec {
                section: section.into(),
                ..prog("p", ld_map_exit(), vec![])
            };
            let err = write_object(&spec(vec![], vec![p])).unwrap_err();
            assert!(
                matches!(err, ElfError::InvalidSection(_)),
                "{section:?}: {err}"
            );
        }
    }

    #[test]
    fn empty_spec_still_writes_an_object() {
        let bytes = write_object(&ObjectSpec::default()).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF");
    }
}
