//! The BTF binary format: header, kinds and type records, read from little-endian bytes.
//!
//! Everything here is a bounds-checked view over borrowed bytes; nothing is copied. A
//! [`Record`] is one `struct btf_type` plus its kind-specific trailer, which is exactly
//! [`trailer_len`] bytes long.

use super::error::BtfError;

const MAGIC: u16 = 0xeb9f;
const VERSION: u8 = 1;
const MIN_HEADER_LEN: usize = 24;
/// Size of the common part of every type record (`name_off`, `info`, `size`/`type`).
pub(crate) const COMMON_LEN: usize = 12;

/// The kind of a BTF type (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

impl Kind {
    /// The kind with this `BTF_KIND_*` number.
    pub fn from_u8(n: u8) -> Option<Kind> {
        const KINDS: [Kind; 19] = [
            Kind::Int,
            Kind::Ptr,
            Kind::Array,
            Kind::Struct,
            Kind::Union,
            Kind::Enum,
            Kind::Fwd,
            Kind::Typedef,
            Kind::Volatile,
            Kind::Const,
            Kind::Restrict,
            Kind::Func,
            Kind::FuncProto,
            Kind::Var,
            Kind::Datasec,
            Kind::Float,
            Kind::DeclTag,
            Kind::TypeTag,
            Kind::Enum64,
        ];
        KINDS.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// Whether records of this kind are only a name for, or a qualifier of, another type.
    pub(crate) fn is_alias(self) -> bool {
        matches!(
            self,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }
}

/// Bytes after the common part: fixed, and per `vlen` entry; indexed by kind number.
const FIXED_LEN: [u32; 32] = {
    let mut t = [0; 32];
    t[Kind::Int as usize] = 4;
    t[Kind::Var as usize] = 4;
    t[Kind::DeclTag as usize] = 4;
    t[Kind::Array as usize] = 12;
    t
};
const ENTRY_LEN: [u32; 32] = {
    let mut t = [0; 32];
    t[Kind::Struct as usize] = 12;
    t[Kind::Union as usize] = 12;
    t[Kind::Datasec as usize] = 12;
    t[Kind::Enum64 as usize] = 12;
    t[Kind::Enum as usize] = 8;
    t[Kind::FuncProto as usize] = 8;
    t
};

/// Bytes of kind-specific data after the common 12 bytes of a record.
pub(crate) fn trailer_len(kind: Kind, vlen: u16) -> usize {
    let k = kind as usize;
    (FIXED_LEN[k] + ENTRY_LEN[k] * u32::from(vlen)) as usize
}

/// Reads a little-endian `u32` at `off`, if it fits.
pub(crate) fn u32_at(data: &[u8], off: usize) -> Option<u32> {
    let bytes = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// The sections of a BTF blob, as absolute byte ranges of the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub types: (usize, usize),
    pub strings: (usize, usize),
}

impl Header {
    /// Parses and checks the header of `data`.
    pub(crate) fn parse(data: &[u8]) -> Result<Header, BtfError> {
        let truncated = BtfError::Truncated {
            what: "header",
            offset: 0,
        };
        let magic = data.get(..2).ok_or(truncated.clone())?;
        let magic = u16::from_le_bytes([magic[0], magic[1]]);
        if magic != MAGIC {
            return Err(BtfError::BadMagic(magic));
        }
        let version = *data.get(2).ok_or(truncated.clone())?;
        if version != VERSION {
            return Err(BtfError::BadVersion(version));
        }
        let field = |i: usize| {
            u32_at(data, 4 + 4 * i)
                .map(|v| v as usize)
                .ok_or(truncated.clone())
        };
        let (hdr_len, type_off, type_len) = (field(0)?, field(1)?, field(2)?);
        let (str_off, str_len) = (field(3)?, field(4)?);
        if hdr_len < MIN_HEADER_LEN || hdr_len > data.len() {
            return Err(BtfError::BadHeader("header length"));
        }
        let types = section(data, hdr_len, type_off, type_len, "type section")?;
        let strings = section(data, hdr_len, str_off, str_len, "string section")?;
        Ok(Header { types, strings })
    }
}

fn section(
    data: &[u8],
    hdr_len: usize,
    off: usize,
    len: usize,
    what: &'static str,
) -> Result<(usize, usize), BtfError> {
    let start = hdr_len + off;
    match start.checked_add(len) {
        Some(end) if end <= data.len() => Ok((start, end)),
        _ => Err(BtfError::BadHeader(what)),
    }
}

/// One type record: the common fields and the kind-specific trailer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub name_off: u32,
    pub kind: Kind,
    pub vlen: u16,
    pub kind_flag: bool,
    /// `size` for sized kinds, `type` for referring kinds.
    pub size_or_type: u32,
    pub trailer: &'a [u8],
}

/// The kind number and `vlen` of an `info` word.
pub(crate) fn split_info(info: u32) -> (u8, u16) {
    (((info >> 24) & 0x1f) as u8, (info & 0xffff) as u16)
}

impl<'a> Record<'a> {
    /// Reads the record at byte `off` of the type section; `id` is only for errors.
    pub(crate) fn read(types: &'a [u8], off: usize, id: u32) -> Result<Record<'a>, BtfError> {
        let truncated = BtfError::Truncated {
            what: "type record",
            offset: off,
        };
        let word = |i: usize| u32_at(types, off + 4 * i).ok_or(truncated.clone());
        let (name_off, info, size_or_type) = (word(0)?, word(1)?, word(2)?);
        let (kind_num, vlen) = split_info(info);
        let kind = Kind::from_u8(kind_num).ok_or(BtfError::UnknownKind { id, kind: kind_num })?;
        let start = off + COMMON_LEN;
        let trailer = types
            .get(start..start + trailer_len(kind, vlen))
            .ok_or(truncated)?;
        Ok(Record {
            name_off,
            kind,
            vlen,
            kind_flag: info >> 31 == 1,
            size_or_type,
            trailer,
        })
    }

    /// The trailer as consecutive entries of `N` little-endian `u32`s.
    pub(crate) fn entries<const N: usize>(&self) -> impl Iterator<Item = [u32; N]> + 'a {
        self.trailer
            .chunks_exact(4 * N)
            .map(|c| std::array::from_fn(|i| u32_at(c, 4 * i).unwrap_or(0)))
    }

    /// The `u32` after the common fields (INT encoding, VAR linkage, DECL_TAG index).
    pub(crate) fn extra(&self) -> u32 {
        u32_at(self.trailer, 0).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(hdr_len: u32, sections: [u32; 4], total: usize) -> Vec<u8> {
        let mut out = vec![0x9f, 0xeb, 1, 0];
        out.extend(hdr_len.to_le_bytes());
        for v in sections {
            out.extend(v.to_le_bytes());
        }
        out.resize(total, 0);
        out
    }

    #[test]
    fn parses_a_header() {
        let data = header(24, [0, 12, 12, 4], 40);
        let hdr = Header::parse(&data).unwrap();
        assert_eq!(hdr.types, (24, 36));
        assert_eq!(hdr.strings, (36, 40));
    }

    #[test]
    fn rejects_bad_headers() {
        let big_endian = [0xeb, 0x9f, 1, 0];
        assert!(matches!(
            Header::parse(&big_endian),
            Err(BtfError::BadMagic(_))
        ));
        let data = header(24, [0, 12, 12, 8], 40);
        assert!(matches!(Header::parse(&data), Err(BtfError::BadHeader(_))));
        let data = header(24, [u32::MAX, 12, 0, 0], 40);
        assert!(Header::parse(&data).is_err());
        for len in 0..24 {
            assert!(Header::parse(&header(24, [0, 0, 0, 0], 24)[..len]).is_err());
        }
    }

    #[test]
    fn every_kind_number_round_trips() {
        for n in 1..=19 {
            assert_eq!(Kind::from_u8(n).map(|k| k as u8), Some(n));
        }
        assert_eq!(Kind::from_u8(0), None);
        assert_eq!(Kind::from_u8(20), None);
    }
}
