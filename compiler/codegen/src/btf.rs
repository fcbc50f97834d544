//! BTF encoder for the object's `.BTF` section.
//!
//! [`BtfBuilder`] appends type records one at a time and hands back their ids; ids start at 1
//! (id 0 is `void`) and follow insertion order, so a type may only refer to ids that already
//! exist or to 0. Names go into a deduplicated string table whose offset 0 is the empty name.
//! [`BtfBuilder::to_bytes`] produces a little-endian blob: header (magic `0xeB9F`, version 1),
//! type section, string section. The builder does not check kernel-specific rules (valid
//! identifiers, DATASEC ordering); callers emit what the kernel accepts.

use std::collections::HashMap;

/// Id of a BTF type; 0 is `void`.
pub type TypeId = u32;

const MAGIC: u16 = 0xeb9f;
const VERSION: u8 = 1;
const HEADER_LEN: u32 = 24;
/// `vlen` is a 16-bit field of `info`.
const MAX_VLEN: usize = 0xffff;
/// Largest type id the kernel accepts (`BTF_MAX_TYPE`).
const MAX_TYPE_ID: u32 = 0x000f_ffff;

/// `BTF_KIND_*` values used by this builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Kind {
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
}

/// Encoding bits of a `BTF_KIND_INT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum IntEncoding {
    Unsigned = 0,
    Signed = 1,
    Char = 2,
    Bool = 4,
}

/// Linkage of a `BTF_KIND_VAR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum VarLinkage {
    Static = 0,
    GlobalAllocated = 1,
    GlobalExtern = 2,
}

/// Linkage of a `BTF_KIND_FUNC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FuncLinkage {
    Static = 0,
    Global = 1,
    Extern = 2,
}

/// One member of a struct: its name, type and offset in bits from the start of the struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    pub name: &'a str,
    pub ty: TypeId,
    pub bit_offset: u32,
}

/// One parameter of a function prototype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub ty: TypeId,
}

/// One variable of a DATASEC: the `VAR` type id, its offset and size in the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarSecInfo {
    pub var: TypeId,
    pub offset: u32,
    pub size: u32,
}

/// A type could not be encoded. These are caller bugs, never user errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("BTF name {0:?} contains a NUL byte")]
    NulInName(String),
    #[error("BTF type `{name}` has {count} entries, more than the 65535 BTF allows")]
    TooManyEntries { name: String, count: usize },
    #[error("BTF type refers to type id {0}, which does not exist yet")]
    UnknownType(TypeId),
    #[error("BTF holds more than {MAX_TYPE_ID} types")]
    TooManyTypes,
    #[error("BTF int `{name}` has size {size}; sizes are 1, 2, 4, 8 or 16 bytes")]
    BadIntSize { name: String, size: u32 },
}

/// Builds a BTF blob type by type.
#[derive(Debug, Clone)]
pub struct BtfBuilder {
    types: Vec<u8>,
    count: u32,
    strings: Vec<u8>,
    string_offsets: HashMap<String, u32>,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BtfBuilder {
    /// An empty builder: no types, a string table holding only the empty name.
    pub fn new() -> Self {
        Self {
            types: Vec::new(),
            count: 0,
            strings: vec![0],
            string_offsets: HashMap::from([(String::new(), 0)]),
        }
    }

    /// Number of types added so far (the id of the last one).
    pub fn type_count(&self) -> u32 {
        self.count
    }

    /// `BTF_KIND_INT` of `size` bytes using all of its bits.
    pub fn add_int(
        &mut self,
        name: &str,
        size: u32,
        encoding: IntEncoding,
    ) -> Result<TypeId, BtfError> {
        if !matches!(size, 1 | 2 | 4 | 8 | 16) {
            return Err(BtfError::BadIntSize {
                name: name.to_owned(),
                size,
            });
        }
        let id = self.header(name, Kind::Int, 0, size)?;
        self.word(((encoding as u32) << 24) | (size * 8));
        Ok(id)
    }

    /// `BTF_KIND_PTR` to `target` (0 for `void *`).
    pub fn add_ptr(&mut self, target: TypeId) -> Result<TypeId, BtfError> {
        self.check_ref(target)?;
        self.header("", Kind::Ptr, 0, target)
    }

    /// `BTF_KIND_ARRAY` of `nelems` elements of `elem`, indexed by `index`.
    pub fn add_array(
        &mut self,
        elem: TypeId,
        index: TypeId,
        nelems: u32,
    ) -> Result<TypeId, BtfError> {
        self.check_ref(elem)?;
        self.check_ref(index)?;
        let id = self.header("", Kind::Array, 0, 0)?;
        self.words(&[elem, index, nelems]);
        Ok(id)
    }

    /// `BTF_KIND_STRUCT` of `size` bytes; an empty `name` makes it anonymous.
    pub fn add_struct(
        &mut self,
        name: &str,
        size: u32,
        members: &[Member<'_>],
    ) -> Result<TypeId, BtfError> {
        members.iter().try_for_each(|m| self.check_ref(m.ty))?;
        let vlen = vlen(name, members.len())?;
        let names = self.strings_of(members.iter().map(|m| m.name))?;
        let id = self.header(name, Kind::Struct, vlen, size)?;
        for (m, name_off) in members.iter().zip(names) {
            self.words(&[name_off, m.ty, m.bit_offset]);
        }
        Ok(id)
    }

    /// `BTF_KIND_VAR` named `name` of type `ty`.
    pub fn add_var(
        &mut self,
        name: &str,
        ty: TypeId,
        linkage: VarLinkage,
    ) -> Result<TypeId, BtfError> {
        self.check_ref(ty)?;
        let id = self.header(name, Kind::Var, 0, ty)?;
        self.word(linkage as u32);
        Ok(id)
    }

    /// `BTF_KIND_DATASEC` named after an ELF section of `size` bytes holding `vars`.
    pub fn add_datasec(
        &mut self,
        name: &str,
        size: u32,
        vars: &[VarSecInfo],
    ) -> Result<TypeId, BtfError> {
        vars.iter().try_for_each(|v| self.check_ref(v.var))?;
        let vlen = vlen(name, vars.len())?;
        let id = self.header(name, Kind::Datasec, vlen, size)?;
        for v in vars {
            self.words(&[v.var, v.offset, v.size]);
        }
        Ok(id)
    }

    /// Anonymous `BTF_KIND_FUNC_PROTO` returning `ret` (0 for `void`).
    pub fn add_func_proto(
        &mut self,
        ret: TypeId,
        params: &[Param<'_>],
    ) -> Result<TypeId, BtfError> {
        self.check_ref(ret)?;
        params.iter().try_for_each(|p| self.check_ref(p.ty))?;
        let vlen = vlen("(func_proto)", params.len())?;
        let names = self.strings_of(params.iter().map(|p| p.name))?;
        let id = self.header("", Kind::FuncProto, vlen, ret)?;
        for (p, name_off) in params.iter().zip(names) {
            self.words(&[name_off, p.ty]);
        }
        Ok(id)
    }

    /// `BTF_KIND_FUNC` named `name` with prototype `proto`.
    pub fn add_func(
        &mut self,
        name: &str,
        proto: TypeId,
        linkage: FuncLinkage,
    ) -> Result<TypeId, BtfError> {
        self.check_ref(proto)?;
        self.header(name, Kind::Func, linkage as u16, proto)
    }

    /// Offset of `s` in the string table (for `.BTF.ext`, which names sections there).
    pub fn add_string(&mut self, s: &str) -> Result<u32, BtfError> {
        self.string(s)
    }

    /// The complete blob: header, types, strings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let type_len = self.types.len() as u32;
        let str_len = self.strings.len() as u32;
        let mut out =
            Vec::with_capacity(HEADER_LEN as usize + self.types.len() + self.strings.len());
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.push(VERSION);
        out.push(0); // flags
        for word in [HEADER_LEN, 0, type_len, type_len, str_len] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }

    /// Appends the common `btf_type` record and returns the new type's id.
    fn header(
        &mut self,
        name: &str,
        kind: Kind,
        vlen: u16,
        size_or_type: u32,
    ) -> Result<TypeId, BtfError> {
        if self.count >= MAX_TYPE_ID {
            return Err(BtfError::TooManyTypes);
        }
        let name_off = self.string(name)?;
        let info = ((kind as u32) << 24) | u32::from(vlen);
        self.words(&[name_off, info, size_or_type]);
        self.count += 1;
        Ok(self.count)
    }

    /// Offset of `s` in the string table, adding it if new.
    fn string(&mut self, s: &str) -> Result<u32, BtfError> {
        if let Some(&off) = self.string_offsets.get(s) {
            return Ok(off);
        }
        if s.contains('\0') {
            return Err(BtfError::NulInName(s.to_owned()));
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.string_offsets.insert(s.to_owned(), off);
        Ok(off)
    }

    /// Interns every name before a record is started, so a bad name leaves no partial record.
    fn strings_of<'a>(
        &mut self,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<u32>, BtfError> {
        names.map(|n| self.string(n)).collect()
    }

    fn check_ref(&self, id: TypeId) -> Result<(), BtfError> {
        if id > self.count {
            return Err(BtfError::UnknownType(id));
        }
        Ok(())
    }

    fn word(&mut self, w: u32) {
        self.types.extend_from_slice(&w.to_le_bytes());
    }

    fn words(&mut self, ws: &[u32]) {
        ws.iter().for_each(|&w| self.word(w));
    }
}

fn vlen(name: &str, count: usize) -> Result<u16, BtfError> {
    if count > MAX_VLEN {
        return Err(BtfError::TooManyEntries {
            name: name.to_owned(),
            count,
        });
    }
    Ok(count as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn empty_blob_is_a_bare_header() {
        let bytes = BtfBuilder::new().to_bytes();
        assert_eq!(&bytes[..4], &[0x9f, 0xeb, 1, 0]);
        assert_eq!(word(&bytes, 4), HEADER_LEN);
        assert_eq!(word(&bytes, 12), 0, "type_len");
        assert_eq!(word(&bytes, 20), 1, "str_len: just the empty name");
        assert_eq!(bytes.len(), 25);
    }

    #[test]
    fn ids_are_sequential_and_strings_deduplicated() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::Signed).unwrap();
        let arr = b.add_array(int, int, 7).unwrap();
        let ptr = b.add_ptr(arr).unwrap();
        let members = [Member {
            name: "int",
            ty: ptr,
            bit_offset: 0,
        }];
        let st = b.add_struct("", 8, &members).unwrap();
        assert_eq!((int, arr, ptr, st), (1, 2, 3, 4));
        let bytes = b.to_bytes();
        assert_eq!(word(&bytes, 20), 5, "strings: \\0 int\\0");
        // INT record: name_off 1, kind 1, size 4, then encoding|bits.
        let t = HEADER_LEN as usize;
        assert_eq!(
            [
                word(&bytes, t),
                word(&bytes, t + 4),
                word(&bytes, t + 8),
                word(&bytes, t + 12)
            ],
            [1, 1 << 24, 4, (1 << 24) | 32]
        );
    }

    #[test]
    fn forward_references_are_rejected() {
        let mut b = BtfBuilder::new();
        assert_eq!(b.add_ptr(1), Err(BtfError::UnknownType(1)));
        assert_eq!(b.type_count(), 0);
    }

    #[test]
    fn nul_in_name_is_rejected() {
        let mut b = BtfBuilder::new();
        assert!(matches!(
            b.add_var("a\0b", 0, VarLinkage::Static),
            Err(BtfError::NulInName(_))
        ));
    }

    #[test]
    fn func_linkage_lives_in_vlen() {
        let mut b = BtfBuilder::new();
        let proto = b.add_func_proto(0, &[]).unwrap();
        b.add_func("f", proto, FuncLinkage::Global).unwrap();
        let bytes = b.to_bytes();
        let func = HEADER_LEN as usize + 12;
        assert_eq!(word(&bytes, func + 4), (12 << 24) | 1);
        assert_eq!(word(&bytes, func + 8), proto);
    }
}
