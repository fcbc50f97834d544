//! The kernel type database on small hand-built BTF: split module BTF, both bitfield
//! encodings, nested anonymous members, enums, variadic prototypes and looping typedefs.

mod btf_util;

use btf_util::*;
use ebpfc_compiler::btf::{BtfError, CType, IntEncoding, KernelTypes};

/// A base with `int`, `struct base_s { int x; }` and an incomplete then complete enum.
fn base() -> Builder {
    let mut b = Builder::new();
    let int = b.int("int", 4, SIGNED);
    b.aggregate(STRUCT, "base_s", 4, false, &[("x", int, 0)]);
    b.enum32("state", false, &[]);
    b.enum32("state", true, &[("ON", 1), ("OFF", -1)]);
    b
}

/// A module over `base`: `struct mod_s { struct base_s *b; int x; }` (with `x` named by
/// the base's string), then `bad` records, then `int mod_fn(void)`.
fn module(base: &Builder, bad: &[[u32; 3]]) -> Builder {
    let mut m = Builder::split(base.type_count(), base.str_len());
    let ptr = m.refer(PTR, "", 2);
    let x = base.offset_of("x").unwrap();
    let name = m.name("mod_s");
    let b = m.name("b");
    m.record(name, (STRUCT << 24) | 2, 16, &[b, ptr, 0, x, 1, 64]);
    for [name_off, info, size] in bad {
        m.record(*name_off, *info, *size, &[]);
    }
    let proto = m.proto(1, &[]);
    m.func("mod_fn", proto);
    m
}

#[test]
fn module_split_btf_is_searched_after_vmlinux() {
    let base = base();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vmlinux"), base.bytes()).unwrap();
    let blob = module(&base, &[]).bytes();
    std::fs::write(dir.path().join("mymod"), &blob).unwrap();
    std::fs::write(dir.path().join("broken"), &blob[..30]).unwrap();

    let types = KernelTypes::from_dir(dir.path()).unwrap();
    let base_s = types.struct_named("base_s").unwrap().unwrap();
    assert!(!base_s.id.in_module());
    let mod_s = types.struct_named("mod_s").unwrap().unwrap();
    assert!(mod_s.id.in_module());
    assert_eq!(types.source_name(mod_s.id), Some("mymod"));
    let mod_fn = types.func_named("mod_fn").unwrap().unwrap();
    assert_eq!(
        mod_fn.ret,
        types
            .resolve(types.field(&base_s, "x").unwrap().unwrap().type_id)
            .unwrap()
    );
    assert_eq!(types.module_names(), ["mymod"]);
    assert_eq!(types.module_failures().len(), 1);
    assert_eq!(types.module_failures()[0].0, "broken");

    let fields = types.fields(&mod_s).unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b", "x"], "`x` reuses the base's string");
    let pointee = types.resolve(fields[0].ty.pointee().unwrap()).unwrap();
    assert_eq!(pointee.as_aggregate(), Some(&base_s));
    assert_eq!(
        types.type_name(fields[0].type_id).unwrap(),
        "struct base_s *"
    );
}

#[test]
fn a_bad_record_in_a_module_is_an_error_not_a_panic() {
    let base = base();
    let module = module(&base, &[[0, 0, 0]]);
    let types = KernelTypes::from_bytes(base.bytes()).unwrap();
    let types = types.with_module("mymod", module.bytes()).unwrap();
    let mod_s = types.struct_named("mod_s").unwrap().unwrap();
    assert_eq!(types.source_name(mod_s.id), Some("mymod"));
    let err = types.func_named("mod_fn").unwrap_err();
    assert!(
        matches!(err, BtfError::UnknownKind { kind: 0, .. }),
        "{err}"
    );
}

#[test]
fn both_bitfield_encodings() {
    let mut b = Builder::new();
    let uint = b.int("unsigned int", 4, 0);
    let three_bits = b.int_bits("unsigned int", 4, 2, 3);
    let new = b.aggregate(STRUCT, "new_style", 4, true, &[("a", uint, (5 << 24) | 3)]);
    b.aggregate(STRUCT, "old_style", 4, false, &[("b", three_bits, 8)]);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let new_style = types.struct_named("new_style").unwrap().unwrap();
    assert_eq!(new_style.id.raw(), new);
    let a = types.field(&new_style, "a").unwrap().unwrap();
    assert_eq!((a.offset_bits, a.bitfield_size), (3, 5));
    let old_style = types.struct_named("old_style").unwrap().unwrap();
    let b = types.field(&old_style, "b").unwrap().unwrap();
    assert_eq!((b.offset_bits, b.bitfield_size), (10, 3));
}

#[test]
fn nested_anonymous_members_add_their_offsets() {
    let mut b = Builder::new();
    let int = b.int("int", 4, SIGNED);
    let inner = b.aggregate(STRUCT, "", 8, false, &[("lo", int, 0), ("hi", int, 32)]);
    let konst = b.refer(CONST, "", inner);
    let middle = b.aggregate(UNION, "", 8, false, &[("", konst, 0), ("whole", int, 0)]);
    b.aggregate(
        STRUCT,
        "outer",
        16,
        false,
        &[("first", int, 0), ("", middle, 64)],
    );
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let outer = types.struct_named("outer").unwrap().unwrap();
    let hi = types.field(&outer, "hi").unwrap().unwrap();
    assert_eq!(hi.offset_bits, 96);
    let listed: Vec<(String, u32)> = types
        .fields(&outer)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.offset_bits))
        .collect();
    let want = [("first", 0), ("lo", 64), ("hi", 96), ("whole", 64)];
    let want: Vec<(String, u32)> = want.iter().map(|(n, o)| (n.to_string(), *o)).collect();
    assert_eq!(listed, want);
    assert_eq!(types.members(&outer).unwrap().len(), 2);
}

#[test]
fn complete_enums_win_over_forward_declarations() {
    let types = KernelTypes::from_bytes(base().bytes()).unwrap();
    let state = types.enum_named("state").unwrap().unwrap();
    assert!(state.signed);
    assert_eq!(types.enum_value(&state, "OFF").unwrap(), Some(-1));
    let mut b = Builder::new();
    b.enum64("wide", true, &[("MINUS", u64::MAX)]);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let wide = types.enum_named("wide").unwrap().unwrap();
    let variants = types.enum_variants(&wide).unwrap();
    assert_eq!(variants[0].value, -1);
    assert_eq!(CType::Enum(wide).size(), Some(8));
}

#[test]
fn variadic_prototypes_and_qualified_pointers() {
    let mut b = Builder::new();
    let int = b.int("int", 4, SIGNED);
    let chr = b.int("char", 1, 0);
    let konst = b.refer(CONST, "", chr);
    let ptr = b.refer(PTR, "", konst);
    let tagged = b.refer(TYPE_TAG, "user", ptr);
    let proto = b.proto(int, &[("fmt", tagged), ("", 0)]);
    b.func("printk", proto);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let printk = types.func_named("printk").unwrap().unwrap();
    assert!(printk.variadic);
    assert_eq!(printk.params.len(), 1);
    assert_eq!(
        types.type_name(printk.params[0].type_id).unwrap(),
        "const char *"
    );
    let target = types
        .resolve(printk.params[0].ty.pointee().unwrap())
        .unwrap();
    let char_ty = CType::Int {
        size: 1,
        signed: false,
        encoding: IntEncoding::Char,
    };
    assert_eq!(target, char_ty);
    let sig = types.signature(printk.id).unwrap();
    assert_eq!(sig.name.as_deref(), Some("printk"));
    assert_eq!(proto, 6);
}

#[test]
fn looping_typedefs_are_an_error() {
    let mut b = Builder::new();
    let first = b.refer(TYPEDEF, "a", 2);
    b.refer(TYPEDEF, "b", first);
    let arr = b.array(4, 0, 2);
    assert_eq!(arr, 3);
    b.refer(TYPEDEF, "self_array", arr);
    b.aggregate(STRUCT, "s", 8, false, &[("loop", first, 0), ("", 5, 0)]);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let err = types.typedef_named("a").unwrap_err();
    assert!(matches!(err, BtfError::TooDeep(_)), "{err}");
    assert!(types.typedef_named("self_array").is_err());
    let s = types.struct_named("s").unwrap().unwrap();
    assert!(types.fields(&s).is_err());
    assert!(types.field(&s, "loop").is_err());
    assert!(types.members(&s).is_err());
}

#[test]
fn bad_ids_and_strings_are_errors() {
    let mut b = Builder::new();
    b.refer(PTR, "", 99);
    b.record(12345, STRUCT << 24, 4, &[]);
    let dangling = b.refer(TYPEDEF, "dangling", 99);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    assert!(types.typedef_named("dangling").is_err());
    let t = types.type_ids().unwrap()[0];
    let pointee = types.resolve(t).unwrap().pointee().unwrap();
    assert!(matches!(
        types.resolve(pointee),
        Err(BtfError::BadTypeId(99))
    ));
    let bad_name = types.type_ids().unwrap()[1];
    assert!(matches!(
        types.resolve(bad_name),
        Err(BtfError::BadString(12345))
    ));
    assert_eq!(dangling, 3);
}

#[test]
fn exponentially_shared_types_are_cut_off() {
    let mut b = Builder::new();
    let int = b.int("int", 4, SIGNED);
    let mut inner = b.aggregate(STRUCT, "", 4, false, &[("leaf", int, 0)]);
    for _ in 0..40 {
        let members = [("", inner, 0), ("", inner, 0)];
        inner = b.aggregate(STRUCT, "", 4, false, &members);
    }
    b.aggregate(STRUCT, "wide", 4, false, &[("", inner, 0)]);
    let proto = b.type_count() + 2;
    let ptr = b.refer(PTR, "", proto);
    b.proto(0, &[("a", proto), ("b", ptr), ("c", proto)]);
    b.func("recursive", proto);
    let types = KernelTypes::from_bytes(b.bytes()).unwrap();
    let wide = types.struct_named("wide").unwrap().unwrap();
    assert_eq!(types.field(&wide, "leaf").unwrap().unwrap().offset_bits, 0);
    assert!(matches!(types.fields(&wide), Err(BtfError::TooDeep(_))));
    assert!(matches!(
        types.field(&wide, "nope"),
        Err(BtfError::TooDeep(_))
    ));
    let err = types.func_named("recursive").unwrap_err();
    assert!(matches!(err, BtfError::TooDeep(_)), "{err}");
    let ids = types.type_ids().unwrap();
    assert!(types.type_name(*ids.last().unwrap()).is_ok());
    assert!(types.type_name(ids[ids.len() - 3]).is_err());
}
