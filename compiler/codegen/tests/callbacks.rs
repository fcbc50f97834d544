//! Objects whose programs pass callbacks to helpers (`for ($kv : @m)`, `len(@m)`), from
//! both backends: the callbacks sit in `.text` under hidden global FUNC symbols, each
//! address load is an `ld_imm64` with a zero immediate and an `R_BPF_64_64` relocation
//! against the callback's symbol, `.BTF.ext` gives every function its func_info, and
//! aya-obj links the callbacks into the program that loads them.

mod corpus;

use aya_obj::generated::BPF_PSEUDO_FUNC;
use aya_obj::Object as AyaObject;
use ebpfc_codegen::Backend;
use object::elf::STV_HIDDEN;
use object::read::{File, Object, ObjectSection, ObjectSymbol, SymbolFlags};
use object::{RelocationFlags, RelocationTarget, SymbolKind, SymbolScope};
use std::collections::HashSet;

/// A loop over a map (callback 0) and `len()` (callback 1) in one probe.
const PROGRAM: &str = r#"BEGIN { @m[1] = 2; $t = 0; for ($kv : @m) { $t += $kv.1; } printf("%d %d\n", $t, len(@m)); }"#;
const CALLBACKS: [&str; 2] = ["probe0_cb0", "probe0_cb1"];
/// Opcode of `ld_imm64`.
const LD_IMM64: u8 = 0x18;
const INSN: usize = 8;

fn object(backend: Backend) -> Vec<u8> {
    let module = corpus::compile(PROGRAM).expect("the program compiles");
    ebpfc_codegen::emit(&module, backend).expect("code generation succeeds")
}

/// Every check of this file on the object `backend` writes.
fn check_all(backend: Backend) {
    let bytes = object(backend);
    callbacks_are_hidden_functions_in_text(&bytes);
    callback_loads_are_relocated_against_their_symbols(&bytes);
    aya_links_the_callbacks_with_their_func_info(&bytes);
}

fn callbacks_are_hidden_functions_in_text(bytes: &[u8]) {
    let file = File::parse(bytes).unwrap();
    let text = file.section_by_name(".text").expect("a .text section");
    let mut end = 0;
    for name in CALLBACKS {
        let sym = file.symbol_by_name(name).expect("a callback symbol");
        assert_eq!(sym.kind(), SymbolKind::Text, "{name}");
        assert_eq!(sym.section_index(), Some(text.index()), "{name}");
        assert_eq!(
            sym.scope(),
            SymbolScope::Linkage,
            "{name} is global and hidden"
        );
        let SymbolFlags::Elf { st_other, .. } = sym.flags() else {
            panic!("not ELF flags");
        };
        assert_eq!(st_other & 3, STV_HIDDEN, "{name}");
        assert!(sym.size() > 0 && sym.address() % INSN as u64 == 0, "{name}");
        end = end.max(sym.address() + sym.size());
    }
    assert_eq!(end, text.size(), "the callbacks fill .text");
    let main = file.symbol_by_name("probe0").unwrap();
    assert_eq!(main.scope(), SymbolScope::Dynamic);
}

fn callback_loads_are_relocated_against_their_symbols(bytes: &[u8]) {
    let file = File::parse(bytes).unwrap();
    let section = file.section_by_name("raw_tp/ebpfc_begin").unwrap();
    let code = section.data().unwrap();
    let mut targets = Vec::new();
    for (offset, reloc) in section.relocations() {
        let RelocationTarget::Symbol(index) = reloc.target() else {
            panic!("relocation without a symbol");
        };
        let name = file.symbol_by_index(index).unwrap().name().unwrap();
        if !CALLBACKS.contains(&name) {
            continue;
        }
        let at = offset as usize;
        let flags = RelocationFlags::Elf {
            r_type: object::elf::R_BPF_64_64,
        };
        assert_eq!(reloc.flags(), flags, "{name}");
        assert_eq!(code[at], LD_IMM64, "{name}: an ld_imm64");
        assert_eq!(&code[at + 4..at + 8], &[0; 4], "{name}: zero immediate");
        targets.push(name.to_string());
    }
    targets.sort();
    assert_eq!(targets, CALLBACKS, "one address load per callback");
}

fn aya_links_the_callbacks_with_their_func_info(bytes: &[u8]) {
    let mut obj = AyaObject::parse(bytes).expect("aya-obj parses the object");
    let text_sections: HashSet<usize> = obj.functions.keys().map(|(s, _)| *s).collect();
    obj.relocate_calls(&text_sections)
        .expect("calls and callback addresses resolve");
    let key = obj.programs["probe0"].function_key();
    let linked = &obj.functions[&key];
    let insns = &linked.instructions;
    let mut starts: Vec<u32> = insns
        .iter()
        .enumerate()
        .filter(|(_, i)| i.code == LD_IMM64 && u32::from(i.src_reg()) == BPF_PSEUDO_FUNC)
        .map(|(at, i)| (at as i32 + i.imm + 1) as u32)
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 2, "two callback address loads");
    let info: Vec<u32> = linked
        .func_info
        .func_info
        .iter()
        .map(|f| f.insn_off)
        .collect();
    assert_eq!(info[0], 0, "the program's own func_info");
    let mut rest = info[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest, starts,
        "func_info at each callback's first instruction"
    );
    let types: HashSet<u32> = linked
        .func_info
        .func_info
        .iter()
        .map(|f| f.type_id)
        .collect();
    assert_eq!(types.len(), 3, "one FUNC per function");
    assert_eq!(
        linked.line_info.line_info.len(),
        3,
        "one line_info per function"
    );
}

#[test]
fn direct_backend_objects_carry_their_callbacks() {
    check_all(Backend::Bytecode);
}

#[cfg(feature = "llvm")]
#[test]
fn llvm_backend_objects_carry_their_callbacks() {
    check_all(Backend::Llvm);
}

#[test]
fn a_callback_never_ends_up_in_a_program_section() {
    let bytes = object(Backend::Bytecode);
    let file = File::parse(&*bytes).unwrap();
    let program = file.section_by_name("raw_tp/ebpfc_begin").unwrap();
    let main = file.symbol_by_name("probe0").unwrap();
    assert_eq!(main.size(), program.size());
    let module = corpus::compile(PROGRAM).unwrap();
    assert_eq!(module.functions[0].callbacks.len(), 2);
    let counts = ebpfc_codegen::instruction_counts(&module, Backend::Bytecode).unwrap();
    assert_eq!(counts.len(), 1, "callbacks are not programs");
    assert_eq!(counts[0].1 * INSN, program.size() as usize);
}
