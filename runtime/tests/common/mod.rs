//! A tiny eBPF assembler and ELF writer for kernel tests: builds objects with legacy
//! `maps` definitions, `license`, libbpf-named program sections and a `.ebpfc` section,
//! so the runtime can be tested without the compiler.

#![allow(dead_code)]

use ebpfc_runtime::{run, RunOptions, RuntimeError};
use ebpfc_stdlib::meta::{Attach, Format, Metadata, Probe};
use object::write::{Object, Relocation, Symbol, SymbolId, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

pub const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
pub const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
const R_BPF_64_64: u32 = 1;
const HELPER_MAP_UPDATE_ELEM: i32 = 2;
const HELPER_RINGBUF_OUTPUT: i32 = 130;

/// One instruction, or a 16-byte `ld_imm64` of a map (relocated by the loader).
#[derive(Clone)]
pub enum Insn {
    Raw([u8; 8]),
    LdMap { dst: u8, map: &'static str },
}

fn raw(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    let mut b = [0u8; 8];
    b[0] = code;
    b[1] = (src << 4) | dst;
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    Insn::Raw(b)
}

pub fn mov_imm(dst: u8, imm: i32) -> Insn {
    raw(0xb7, dst, 0, 0, imm)
}
pub fn mov_reg(dst: u8, src: u8) -> Insn {
    raw(0xbf, dst, src, 0, 0)
}
pub fn add_imm(dst: u8, imm: i32) -> Insn {
    raw(0x07, dst, 0, 0, imm)
}
/// `*(u64 *)(dst + off) = src`
pub fn stx_dw(dst: u8, off: i16, src: u8) -> Insn {
    raw(0x7b, dst, src, off, 0)
}
pub fn call(helper: i32) -> Insn {
    raw(0x85, 0, 0, 0, helper)
}
pub fn exit() -> Insn {
    raw(0x95, 0, 0, 0, 0)
}

/// `return 0`.
pub fn ret0() -> Vec<Insn> {
    vec![mov_imm(0, 0), exit()]
}

/// Stores `words` on the stack and sends them as one record to ring buffer `map`.
pub fn emit_event(map: &'static str, words: &[i32]) -> Vec<Insn> {
    let base = -8 * words.len() as i16;
    let mut code = Vec::new();
    for (i, w) in words.iter().enumerate() {
        code.push(mov_imm(1, *w));
        code.push(stx_dw(10, base + 8 * i as i16, 1));
    }
    code.push(Insn::LdMap { dst: 1, map });
    code.extend([mov_reg(2, 10), add_imm(2, base.into())]);
    code.extend([
        mov_imm(3, 8 * words.len() as i32),
        mov_imm(4, 0),
        call(HELPER_RINGBUF_OUTPUT),
    ]);
    code
}

/// `map[key] = value` for a map with u64 keys and values.
pub fn update_u64(map: &'static str, key: i32, value: i32) -> Vec<Insn> {
    vec![
        mov_imm(1, key),
        stx_dw(10, -8, 1),
        mov_imm(1, value),
        stx_dw(10, -16, 1),
        Insn::LdMap { dst: 1, map },
        mov_reg(2, 10),
        add_imm(2, -8),
        mov_reg(3, 10),
        add_imm(3, -16),
        mov_imm(4, 0),
        call(HELPER_MAP_UPDATE_ELEM),
    ]
}

/// A probe entry of the metadata.
pub fn probe(program: &str, name: &str, attach: Attach) -> Probe {
    Probe {
        program: program.into(),
        name: name.into(),
        attach,
        lines: Vec::new(),
        loops: Vec::new(),
    }
}

/// A printf format without arguments.
pub fn format(template: &str) -> Format {
    Format {
        template: template.into(),
        args: vec![],
        system: false,
        stderr_prefix: None,
        value: false,
        cat: false,
    }
}

/// A program made of the concatenated instruction `parts`.
pub fn prog(name: &'static str, section: &str, parts: Vec<Vec<Insn>>) -> Prog {
    Prog {
        name,
        section: section.into(),
        code: parts.concat(),
    }
}

/// A ring buffer map of 64 KiB.
pub fn ringbuf(name: &'static str) -> MapDef {
    MapDef {
        name,
        map_type: BPF_MAP_TYPE_RINGBUF,
        key_size: 0,
        value_size: 0,
        max_entries: 1 << 16,
    }
}

/// Options that skip the `Attaching` line.
pub fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        flush_each_event: false,
        ..Default::default()
    }
}

/// Runs `elf`, returning the result and everything written to `out`.
pub fn run_to_string(elf: &[u8], opts: &RunOptions) -> (Result<i32, RuntimeError>, String) {
    let mut out = Vec::new();
    let result = run(elf, opts, &mut out);
    (result, String::from_utf8(out).expect("output is UTF-8"))
}

/// A legacy (`struct bpf_map_def`) map definition.
pub struct MapDef {
    pub name: &'static str,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
}

/// A program: its function symbol, its ELF section and its code.
pub struct Prog {
    pub name: &'static str,
    pub section: String,
    pub code: Vec<Insn>,
}

/// Writes an object holding `maps`, `progs` and `meta` in `.ebpfc`.
pub fn build_object(maps: &[MapDef], progs: &[Prog], meta: &Metadata) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    add_data(&mut obj, "license", b"GPL\0", SectionKind::Data);
    add_data(&mut obj, ".ebpfc", &meta.to_bytes(), SectionKind::Metadata);
    let symbols = add_maps(&mut obj, maps);
    for prog in progs {
        add_prog(&mut obj, prog, &symbols);
    }
    obj.write().expect("object writes")
}

fn add_data(obj: &mut Object<'_>, name: &str, data: &[u8], kind: SectionKind) {
    let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
    obj.append_section_data(id, data, 1);
}

fn add_maps(obj: &mut Object<'_>, maps: &[MapDef]) -> Vec<(&'static str, SymbolId)> {
    let section = obj.add_section(Vec::new(), b"maps".to_vec(), SectionKind::Data);
    let mut symbols = Vec::new();
    for map in maps {
        let def: Vec<u8> = [
            map.map_type,
            map.key_size,
            map.value_size,
            map.max_entries,
            0,
            0,
            0,
        ]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
        let offset = obj.append_section_data(section, &def, 4);
        let symbol = obj.add_symbol(Symbol {
            name: map.name.as_bytes().to_vec(),
            value: offset,
            size: def.len() as u64,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
        symbols.push((map.name, symbol));
    }
    symbols
}

fn add_prog(obj: &mut Object<'_>, prog: &Prog, maps: &[(&'static str, SymbolId)]) {
    let section = obj.add_section(
        Vec::new(),
        prog.section.as_bytes().to_vec(),
        SectionKind::Text,
    );
    let mut bytes = Vec::new();
    let mut relocations = Vec::new();
    for insn in &prog.code {
        match insn {
            Insn::Raw(b) => bytes.extend_from_slice(b),
            Insn::LdMap { dst, map } => {
                let symbol = maps
                    .iter()
                    .find(|(n, _)| n == map)
                    .expect("map is defined")
                    .1;
                relocations.push((bytes.len() as u64, symbol));
                bytes.extend_from_slice(&[0x18, *dst, 0, 0, 0, 0, 0, 0]);
                bytes.extend_from_slice(&[0; 8]);
            }
        }
    }
    obj.append_section_data(section, &bytes, 8);
    obj.add_symbol(Symbol {
        name: prog.name.as_bytes().to_vec(),
        value: 0,
        size: bytes.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });
    for (offset, symbol) in relocations {
        let flags = RelocationFlags::Elf {
            r_type: R_BPF_64_64,
        };
        obj.add_relocation(
            section,
            Relocation {
                offset,
                symbol,
                addend: 0,
                flags,
            },
        )
        .expect("relocation is valid");
    }
}

/// Whether BPF can be used here. Without it the calling test should return early: this
/// prints a loud skip notice, or panics when `EBPFC_REQUIRE_KERNEL=1`.
pub fn kernel_available(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(
            std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() != Ok("1"),
            "{test}: BPF is unavailable (not root) but EBPFC_REQUIRE_KERNEL=1"
        );
        // Written to the stderr handle, not with eprintln!, so the test harness does not
        // capture (and hide) the notice.
        let notice = format!("!!! SKIPPED {test}: BPF is unavailable (not root) !!!\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
    }
    root
}
