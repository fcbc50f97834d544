//! The written object parses back, through aya-obj and the `object` read API, into exactly the
//! maps, programs, relocations and sections of the spec it came from.

mod common;

use std::collections::HashMap;

use aya_obj::btf::BtfKind;
use aya_obj::generated::BPF_PSEUDO_MAP_FD;
use aya_obj::{Map, Object as AyaObject, ProgramSection};
use common::{sample_spec, HASH_MAP, METADATA, RINGBUF};
use ebpfc_codegen::elf::{write_object, LICENSE_SYMBOL, MAPS_SECTION, METADATA_SECTION};
use ebpfc_codegen::spec::ObjectSpec;
use object::read::elf::{ElfFile64, SectionHeader as _};
use object::read::{File, Object, ObjectSection, ObjectSymbol};
use object::{
    Architecture, Endianness, LittleEndian, RelocationFlags, RelocationTarget, SectionFlags,
    SectionKind, SymbolKind,
};

fn sample_object() -> Vec<u8> {
    write_object(&sample_spec()).expect("sample spec is valid")
}

#[test]
fn aya_sees_every_map_with_its_definition() {
    let obj = AyaObject::parse(&sample_object()).expect("aya-obj parses the object");
    assert_eq!(obj.maps.len(), 2);
    for spec in sample_spec().maps {
        let map = &obj.maps[&spec.name];
        assert!(matches!(map, Map::Btf(_)), "{} is BTF-defined", spec.name);
        let got = (map.map_type(), map.key_size(), map.value_size());
        assert_eq!(
            got,
            (spec.map_type, spec.key_size, spec.value_size),
            "{}",
            spec.name
        );
        assert_eq!(
            (map.max_entries(), map.map_flags()),
            (spec.max_entries, spec.flags)
        );
        assert!(map.data().is_empty(), "BTF maps carry no initial data");
    }
}

#[test]
fn aya_sees_every_program_in_its_section() {
    let obj = AyaObject::parse(&sample_object()).unwrap();
    assert_eq!(obj.license.to_str().unwrap(), "GPL");
    let expected = [
        ("probe_begin", 9, 0),
        ("probe_openat", 11, 0),
        ("probe_tick", 9, 0),
        ("probe_tock", 11, 9 * 8),
    ];
    assert_eq!(obj.programs.len(), expected.len());
    for (name, slots, address) in expected {
        let prog = &obj.programs[name];
        let function = &obj.functions[&prog.function_key()];
        assert_eq!(function.name, name);
        assert_eq!(function.instructions.len(), slots, "{name}");
        assert_eq!(prog.address, address, "{name}");
    }
    let kind = |name: &str| obj.programs[name].section.clone();
    assert!(matches!(kind("probe_begin"), ProgramSection::RawTracePoint));
    assert!(matches!(kind("probe_openat"), ProgramSection::TracePoint));
    assert!(matches!(kind("probe_tick"), ProgramSection::PerfEvent));
    assert!(matches!(kind("probe_tock"), ProgramSection::PerfEvent));
    let tick = obj.programs["probe_tick"].section_index;
    assert_eq!(
        tick, obj.programs["probe_tock"].section_index,
        "shared section"
    );
}

#[test]
fn aya_relocates_each_map_load_to_its_map() {
    let mut obj = AyaObject::parse(&sample_object()).unwrap();
    let fds = HashMap::from([(HASH_MAP, 100), (RINGBUF, 200)]);
    let maps = obj.maps.clone();
    let with_fds = maps
        .iter()
        .map(|(name, map)| (name.as_str(), fds[name.as_str()], map));
    obj.relocate_maps(with_fds, &Default::default())
        .expect("relocations resolve");

    for prog in sample_spec().programs {
        let key = obj.programs[&prog.name].function_key();
        let insns = &obj.functions[&key].instructions;
        assert_eq!(prog.map_relocs.len(), 1);
        for (index, map) in &prog.map_relocs {
            let insn = insns[*index];
            assert_eq!(insn.imm, fds[map.as_str()], "{}: insn {index}", prog.name);
            assert_eq!(u32::from(insn.src_reg()), BPF_PSEUDO_MAP_FD);
        }
    }
}

#[test]
fn aya_reads_the_btf_types() {
    let obj = AyaObject::parse(&sample_object()).unwrap();
    let btf = obj.btf.as_ref().expect(".BTF is parsed");
    for name in ["probe_begin", "probe_openat", "probe_tick", "probe_tock"] {
        btf.id_by_type_name_kind(name, BtfKind::Func).expect(name);
    }
    for name in [HASH_MAP, RINGBUF] {
        btf.id_by_type_name_kind(name, BtfKind::Var).expect(name);
    }
    btf.id_by_type_name_kind(MAPS_SECTION, BtfKind::DataSec)
        .unwrap();
    btf.id_by_type_name_kind("int", BtfKind::Int).unwrap();
}

#[test]
fn header_is_a_relocatable_little_endian_bpf_object() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    assert_eq!(file.architecture(), Architecture::Bpf);
    assert_eq!(file.endianness(), Endianness::Little);
    assert!(file.is_64());
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
}

#[test]
fn metadata_round_trips_in_a_non_allocated_section() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    let section = file.section_by_name(METADATA_SECTION).unwrap();
    assert_eq!(section.data().unwrap(), METADATA);
    assert_eq!(sh_flags(&section) & u64::from(object::elf::SHF_ALLOC), 0);
}

#[test]
fn license_and_maps_sections_hold_what_libbpf_expects() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    let license = file.section_by_name("license").unwrap();
    assert_eq!(license.data().unwrap(), b"GPL\0");
    let maps = file.section_by_name(MAPS_SECTION).unwrap();
    assert_eq!(
        maps.data().unwrap(),
        &[0; 64],
        "ringbuf 3 fields + hash 5 fields"
    );
    assert_eq!(maps.kind(), SectionKind::Data);
    assert!(file.section_by_name(".BTF").is_some());
}

#[test]
fn program_sections_are_executable_and_aligned() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    for prog in sample_spec().programs {
        let section = file.section_by_name(&prog.section).unwrap();
        assert_eq!(section.kind(), SectionKind::Text, "{}", prog.section);
        assert_eq!(section.align(), 8);
        let want = object::elf::SHF_ALLOC | object::elf::SHF_EXECINSTR;
        assert_eq!(sh_flags(&section), u64::from(want));
    }
    let perf = file.section_by_name("perf_event").unwrap();
    assert_eq!(perf.size(), (9 + 11) * 8, "two programs back to back");
}

#[test]
fn symbols_are_global_with_offsets_and_sizes() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    let symbol = |name: &str| {
        file.symbol_by_name(name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let expected = [
        ("probe_begin", SymbolKind::Text, 0, 9 * 8),
        ("probe_tock", SymbolKind::Text, 9 * 8, 11 * 8),
        (RINGBUF, SymbolKind::Data, 0, 24),
        (HASH_MAP, SymbolKind::Data, 24, 40),
        (LICENSE_SYMBOL, SymbolKind::Data, 0, 4),
    ];
    for (name, kind, address, size) in expected {
        let s = symbol(name);
        assert!(s.is_global() && s.is_definition(), "{name}");
        assert_eq!(
            (s.kind(), s.address(), s.size()),
            (kind, address, size),
            "{name}"
        );
    }
}

#[test]
fn map_relocations_are_r_bpf_64_64_against_map_symbols() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    let perf = file.section_by_name("perf_event").unwrap();
    let relocs: Vec<_> = perf.relocations().collect();
    let expected = [(4 * 8, HASH_MAP), (9 * 8 + 2 * 8, RINGBUF)];
    assert_eq!(relocs.len(), expected.len());
    for ((offset, reloc), (want_offset, map)) in relocs.iter().zip(expected) {
        assert_eq!(*offset, want_offset);
        assert_eq!(reloc.flags(), RelocationFlags::Elf { r_type: 1 });
        let RelocationTarget::Symbol(index) = reloc.target() else {
            panic!("relocation against a symbol");
        };
        assert_eq!(file.symbol_by_index(index).unwrap().name().unwrap(), map);
        assert!(!reloc.has_implicit_addend() || reloc.addend() == 0);
    }
    let elf = ElfFile64::<LittleEndian>::parse(&*bytes).unwrap();
    let rel = elf
        .section_by_name(".relperf_event")
        .expect("REL, not RELA");
    assert_eq!(
        rel.elf_section_header().sh_type(LittleEndian),
        object::elf::SHT_REL
    );
}

#[test]
fn instructions_are_copied_unchanged() {
    let bytes = sample_object();
    let file = File::parse(&*bytes).unwrap();
    let spec = sample_spec();
    let section = file.section_by_name("raw_tp/ebpfc_begin").unwrap();
    assert_eq!(section.data().unwrap(), spec.programs[0].code.as_slice());
}

#[test]
fn object_without_maps_has_no_maps_section() {
    let mut code = common::Asm::default();
    code.mov_imm(common::R0, 0).exit();
    let spec = ObjectSpec {
        programs: vec![code.program("probe_0", "perf_event")],
        ..ObjectSpec::default()
    };
    let bytes = write_object(&spec).unwrap();
    let obj = AyaObject::parse(&bytes).expect("aya-obj parses a map-less object");
    assert!(obj.maps.is_empty());
    assert_eq!(
        obj.functions[&obj.programs["probe_0"].function_key()]
            .instructions
            .len(),
        2
    );
    let file = File::parse(&*bytes).unwrap();
    assert!(file.section_by_name(MAPS_SECTION).is_none());
    assert_eq!(file.section_by_name(METADATA_SECTION).unwrap().size(), 0);
}

fn sh_flags(section: &object::read::Section<'_, '_>) -> u64 {
    match section.flags() {
        SectionFlags::Elf { sh_flags } => sh_flags,
        other => panic!("not ELF flags: {other:?}"),
    }
}
