//! A small BTF encoder for tests: builds base or split BTF blobs record by record, so
//! tests can describe exactly the types (and the corruption) they need.

#![allow(dead_code)]

pub const INT: u32 = 1;
pub const PTR: u32 = 2;
pub const ARRAY: u32 = 3;
pub const STRUCT: u32 = 4;
pub const UNION: u32 = 5;
pub const ENUM: u32 = 6;
pub const FWD: u32 = 7;
pub const TYPEDEF: u32 = 8;
pub const VOLATILE: u32 = 9;
pub const CONST: u32 = 10;
pub const FUNC: u32 = 12;
pub const FUNC_PROTO: u32 = 13;
pub const TYPE_TAG: u32 = 18;
pub const ENUM64: u32 = 19;

pub const SIGNED: u32 = 1;
pub const BOOL: u32 = 4;

/// Builds one BTF blob; ids start at 1, or after the base's for a split blob.
pub struct Builder {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
    str_base: u32,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            types: Vec::new(),
            strings: vec![0],
            next_id: 1,
            str_base: 0,
        }
    }
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A split blob over a base with `base_types` types and `base_str_len` string bytes.
    pub fn split(base_types: u32, base_str_len: u32) -> Self {
        Builder {
            types: Vec::new(),
            strings: Vec::new(),
            next_id: base_types + 1,
            str_base: base_str_len,
        }
    }

    pub fn type_count(&self) -> u32 {
        self.next_id - 1
    }

    pub fn str_len(&self) -> u32 {
        self.strings.len() as u32
    }

    /// The offset of `s` in this blob's strings (appending it).
    pub fn name(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// The offset of an already added string `s`.
    pub fn offset_of(&self, s: &str) -> Option<u32> {
        let wanted = [s.as_bytes(), b"\0"].concat();
        let at = self
            .strings
            .windows(wanted.len())
            .position(|w| w == wanted)?;
        Some(self.str_base + at as u32)
    }

    /// Appends a raw record and returns its id.
    pub fn record(&mut self, name_off: u32, info: u32, size_or_type: u32, extra: &[u32]) -> u32 {
        for word in [name_off, info, size_or_type].iter().chain(extra) {
            self.types.extend(word.to_le_bytes());
        }
        self.next_id += 1;
        self.next_id - 1
    }

    fn add(
        &mut self,
        kind: u32,
        name: &str,
        vlen: usize,
        flag: bool,
        sot: u32,
        extra: &[u32],
    ) -> u32 {
        let name = self.name(name);
        let info = (kind << 24) | vlen as u32 | (u32::from(flag) << 31);
        self.record(name, info, sot, extra)
    }

    pub fn int(&mut self, name: &str, size: u32, encoding: u32) -> u32 {
        self.add(INT, name, 0, false, size, &[(encoding << 24) | (size * 8)])
    }

    /// An `INT` of `bits` bits at bit `offset` (the older bitfield encoding).
    pub fn int_bits(&mut self, name: &str, size: u32, offset: u32, bits: u32) -> u32 {
        self.add(INT, name, 0, false, size, &[(offset << 16) | bits])
    }

    /// A pointer, typedef, qualifier or tag referring to `to`.
    pub fn refer(&mut self, kind: u32, name: &str, to: u32) -> u32 {
        self.add(kind, name, 0, false, to, &[])
    }

    pub fn array(&mut self, elem: u32, index: u32, len: u32) -> u32 {
        self.add(ARRAY, "", 0, false, 0, &[elem, index, len])
    }

    /// A struct or union with `(name, type, bit offset)` members; with `bitfields`, each
    /// offset is `size << 24 | offset`.
    pub fn aggregate(
        &mut self,
        kind: u32,
        name: &str,
        size: u32,
        bitfields: bool,
        members: &[(&str, u32, u32)],
    ) -> u32 {
        let mut extra = Vec::new();
        for (member, ty, offset) in members {
            extra.extend([self.name(member), *ty, *offset]);
        }
        self.add(kind, name, members.len(), bitfields, size, &extra)
    }

    pub fn enum32(&mut self, name: &str, signed: bool, values: &[(&str, i32)]) -> u32 {
        let mut extra = Vec::new();
        for (variant, value) in values {
            extra.extend([self.name(variant), *value as u32]);
        }
        self.add(ENUM, name, values.len(), signed, 4, &extra)
    }

    pub fn enum64(&mut self, name: &str, signed: bool, values: &[(&str, u64)]) -> u32 {
        let mut extra = Vec::new();
        for (variant, value) in values {
            extra.extend([self.name(variant), *value as u32, (*value >> 32) as u32]);
        }
        self.add(ENUM64, name, values.len(), signed, 8, &extra)
    }

    /// A prototype with `(name, type)` parameters; `("", 0)` last means `...`.
    pub fn proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
        let mut extra = Vec::new();
        for (param, ty) in params {
            extra.extend([self.name(param), *ty]);
        }
        self.add(FUNC_PROTO, "", params.len(), false, ret, &extra)
    }

    pub fn func(&mut self, name: &str, proto: u32) -> u32 {
        self.add(FUNC, name, 0, false, proto, &[])
    }

    pub fn fwd(&mut self, name: &str, union: bool) -> u32 {
        self.add(FWD, name, 0, union, 0, &[])
    }

    /// The blob: header, type section, string section.
    pub fn bytes(&self) -> Vec<u8> {
        let (types, strings) = (self.types.len() as u32, self.strings.len() as u32);
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for word in [24, 0, types, types, strings] {
            out.extend(u32::to_le_bytes(word));
        }
        out.extend(&self.types);
        out.extend(&self.strings);
        out
    }
}

/// `blob` (type section at offset 0, strings right after it) with its type section cut
/// to `type_len` bytes and the string section kept whole.
pub fn cut_types(blob: &[u8], type_len: usize) -> Vec<u8> {
    let word = |i: usize| u32::from_le_bytes(blob[4 + 4 * i..8 + 4 * i].try_into().unwrap());
    let hdr = word(0) as usize;
    let types = &blob[hdr..hdr + word(2) as usize];
    let strings = &blob[hdr + word(3) as usize..hdr + (word(3) + word(4)) as usize];
    let type_len = type_len.min(types.len());
    let mut out = blob[..hdr].to_vec();
    for (i, v) in [(2, type_len as u32), (3, type_len as u32)] {
        out[4 + 4 * i..8 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    out.extend(&types[..type_len]);
    out.extend(strings);
    out
}
