//! The object's `.BTF` and `.BTF.ext`: the map definitions as libbpf parses them (one
//! struct of `__uint` pointer members per map, its VAR and the `.maps` DATASEC), a global
//! `int name(void *ctx)` FUNC per program, and, when there are callbacks, a static
//! `long name(void *map, void *key, void *value, void *ctx)` FUNC per callback and the
//! func_info of every function (the kernel requires it of a program that loads a
//! callback's address).

use super::{map_fields, ElfError, MapLayout, MAPS_SECTION, MAP_FIELD_SIZE};
use crate::btf::{
    BtfBuilder, BtfError, FuncLinkage, IntEncoding, Member, Param, TypeId, VarLinkage, VarSecInfo,
};
use crate::btf_ext::{self, FuncInfoSection};
use crate::spec::{MapSpec, ObjectSpec, ProgramSpec};
use std::collections::HashMap;

/// The `.BTF` blob and, when there are callbacks, the `.BTF.ext` one.
pub(super) struct EncodedBtf {
    pub types: Vec<u8>,
    pub ext: Option<Vec<u8>>,
}

/// The `.BTF` blob: map definitions as libbpf parses them, one FUNC per program and
/// callback; with callbacks, the `.BTF.ext` func_info of every function.
pub(super) fn encode_btf(spec: &ObjectSpec, layout: &MapLayout) -> Result<EncodedBtf, ElfError> {
    let mut btf = BtfBuilder::new();
    let int = btf.add_int("int", 4, IntEncoding::Signed)?;
    encode_maps(&mut btf, int, &spec.maps, layout)?;
    let mut funcs = encode_programs(&mut btf, int, &spec.programs)?;
    if spec.callbacks.is_empty() {
        return Ok(EncodedBtf {
            types: btf.to_bytes(),
            ext: None,
        });
    }
    funcs.extend(encode_callbacks(&mut btf, &spec.callbacks)?);
    let functions: Vec<&ProgramSpec> = spec.programs.iter().chain(&spec.callbacks).collect();
    let sections = func_info(&mut btf, &functions, &funcs)?;
    Ok(EncodedBtf {
        types: btf.to_bytes(),
        ext: Some(btf_ext::encode(&sections)),
    })
}

/// The func_info of `functions` (FUNC types `funcs`), grouped by section, each function
/// at the offset `place_functions` gives it: after the ones before it in its section.
fn func_info(
    btf: &mut BtfBuilder,
    functions: &[&ProgramSpec],
    funcs: &[TypeId],
) -> Result<Vec<FuncInfoSection>, ElfError> {
    let mut sections: Vec<(String, u32, FuncInfoSection)> = Vec::new();
    for (prog, &ty) in functions.iter().zip(funcs) {
        let index = match sections.iter().position(|(name, ..)| *name == prog.section) {
            Some(i) => i,
            None => {
                let name_off = btf.add_string(&prog.section)?;
                let records = Vec::new();
                let section = FuncInfoSection { name_off, records };
                sections.push((prog.section.clone(), 0, section));
                sections.len() - 1
            }
        };
        let (_, end, section) = &mut sections[index];
        section.records.push((*end, ty));
        *end += prog.code.len() as u32;
    }
    Ok(sections.into_iter().map(|(_, _, s)| s).collect())
}

fn encode_maps(
    btf: &mut BtfBuilder,
    int: TypeId,
    maps: &[MapSpec],
    layout: &MapLayout,
) -> Result<(), ElfError> {
    if maps.is_empty() {
        return Ok(());
    }
    let mut values = UintTypes::new(int);
    let mut vars = Vec::with_capacity(maps.len());
    for (map, &(offset, size)) in maps.iter().zip(&layout.slots) {
        let definition = encode_map_struct(btf, &mut values, map, size)?;
        let var = btf.add_var(&map.name, definition, VarLinkage::GlobalAllocated)?;
        vars.push(VarSecInfo { var, offset, size });
    }
    btf.add_datasec(MAPS_SECTION, layout.total, &vars)?;
    Ok(())
}

/// `struct { __uint(type, ..); ... }` for one map.
fn encode_map_struct(
    btf: &mut BtfBuilder,
    values: &mut UintTypes,
    map: &MapSpec,
    size: u32,
) -> Result<TypeId, ElfError> {
    let fields = map_fields(map);
    let mut members = Vec::with_capacity(fields.len());
    for (i, &(name, value)) in fields.iter().enumerate() {
        let ty = values.get(btf, value)?;
        let bit_offset = i as u32 * MAP_FIELD_SIZE * 8;
        members.push(Member {
            name,
            ty,
            bit_offset,
        });
    }
    Ok(btf.add_struct("", size, &members)?)
}

/// `__uint(name, value)` is `int (*name)[value]`: one ARRAY and PTR per distinct value.
struct UintTypes {
    int: TypeId,
    ptrs: HashMap<u32, TypeId>,
}

impl UintTypes {
    fn new(int: TypeId) -> Self {
        Self {
            int,
            ptrs: HashMap::new(),
        }
    }

    fn get(&mut self, btf: &mut BtfBuilder, value: u32) -> Result<TypeId, BtfError> {
        if let Some(&ptr) = self.ptrs.get(&value) {
            return Ok(ptr);
        }
        let array = btf.add_array(self.int, self.int, value)?;
        let ptr = btf.add_ptr(array)?;
        self.ptrs.insert(value, ptr);
        Ok(ptr)
    }
}

/// `int name(void *ctx)` with global linkage for every program; their FUNC types.
fn encode_programs(
    btf: &mut BtfBuilder,
    int: TypeId,
    programs: &[ProgramSpec],
) -> Result<Vec<TypeId>, ElfError> {
    if programs.is_empty() {
        return Ok(Vec::new());
    }
    let void_ptr = btf.add_ptr(0)?;
    let proto = btf.add_func_proto(
        int,
        &[Param {
            name: "ctx",
            ty: void_ptr,
        }],
    )?;
    programs
        .iter()
        .map(|prog| Ok(btf.add_func(&prog.name, proto, FuncLinkage::Global)?))
        .collect()
}

/// `long name(void *map, void *key, void *value, void *ctx)` with static linkage (the
/// kernel accepts only static callbacks) for every callback; their FUNC types.
fn encode_callbacks(
    btf: &mut BtfBuilder,
    callbacks: &[ProgramSpec],
) -> Result<Vec<TypeId>, ElfError> {
    let long = btf.add_int("long", 8, IntEncoding::Signed)?;
    let void_ptr = btf.add_ptr(0)?;
    let params: Vec<Param> = ["map", "key", "value", "ctx"]
        .into_iter()
        .map(|name| Param { name, ty: void_ptr })
        .collect();
    let proto = btf.add_func_proto(long, &params)?;
    callbacks
        .iter()
        .map(|c| Ok(btf.add_func(&c.name, proto, FuncLinkage::Static)?))
        .collect()
}
