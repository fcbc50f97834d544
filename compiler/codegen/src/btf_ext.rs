//! Encoder for the object's `.BTF.ext` section. The kernel requires func_info of a
//! program that loads a callback's address (`BPF_PSEUDO_FUNC`): per ELF section, one
//! record per function at its first instruction (a byte offset in the section, as in
//! objects clang writes; loaders turn it into an instruction index) naming the function's
//! BTF `FUNC`. Each function also gets one line_info record at its start, with empty file
//! and line names, so that loaders (libbpf warns otherwise) keep the func_info. No
//! CO-RE relocations.
//!
//! Layout, little-endian: the 32-byte header (magic `0xeB9F`, version 1, then the offset
//! and length of each subsection after the header), then each subsection: its record
//! size, and per ELF section its name (an offset in the `.BTF` string table), its record
//! count and its records.

use crate::btf::TypeId;

const MAGIC: u16 = 0xeb9f;
const VERSION: u8 = 1;
const HEADER_LEN: u32 = 32;
/// Size of one `bpf_func_info` record: instruction offset, type id.
const FUNC_INFO_SIZE: u32 = 8;
/// Size of one `bpf_line_info` record: instruction offset, file name, line, line/column.
const LINE_INFO_SIZE: u32 = 16;

/// The functions of one ELF section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncInfoSection {
    /// The section's name, as an offset in the `.BTF` string table.
    pub name_off: u32,
    /// (byte offset of the function in the section, its `FUNC` type), by offset.
    pub records: Vec<(u32, TypeId)>,
}

/// The `.BTF.ext` blob describing `sections`' functions.
pub fn encode(sections: &[FuncInfoSection]) -> Vec<u8> {
    let func_info = subsection(sections, FUNC_INFO_SIZE, |offset, ty| vec![offset, ty]);
    let line_info = subsection(sections, LINE_INFO_SIZE, |offset, _| vec![offset, 0, 0, 0]);
    let (func_len, line_len) = (func_info.len() as u32, line_info.len() as u32);
    let end = func_len + line_len;
    let mut out = Vec::with_capacity(HEADER_LEN as usize + end as usize);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.push(VERSION);
    out.push(0); // flags
                 // hdr_len; func_info off, len; line_info off, len; core_relo off, len.
    for word in [HEADER_LEN, 0, func_len, func_len, line_len, end, 0] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&func_info);
    out.extend_from_slice(&line_info);
    out
}

/// One subsection: the record size, then per section its name, count and records
/// (`record` gives the words of a function's record from its offset and type).
fn subsection(
    sections: &[FuncInfoSection],
    size: u32,
    record: impl Fn(u32, TypeId) -> Vec<u32>,
) -> Vec<u8> {
    let mut words = vec![size];
    for section in sections {
        words.extend([section.name_off, section.records.len() as u32]);
        for &(offset, ty) in &section.records {
            words.extend(record(offset, ty));
        }
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn header_points_at_func_and_line_info() {
        let sections = [
            FuncInfoSection {
                name_off: 5,
                records: vec![(0, 3), (64, 4)],
            },
            FuncInfoSection {
                name_off: 9,
                records: vec![(16, 7)],
            },
        ];
        let bytes = encode(&sections);
        assert_eq!(&bytes[..4], &[0x9f, 0xeb, 1, 0]);
        let w = words(&bytes[4..]);
        // func_info: 4 + (8 + 16) + (8 + 8) bytes; line_info: 4 + (8 + 32) + (8 + 16).
        assert_eq!(&w[..7], &[32, 0, 44, 44, 68, 112, 0]);
        assert_eq!(&w[7..18], &[8, 5, 2, 0, 3, 64, 4, 9, 1, 16, 7]);
        let lines = &w[18..];
        assert_eq!(lines.len(), 17);
        assert_eq!(&lines[..7], &[16, 5, 2, 0, 0, 0, 0]);
        assert_eq!(&lines[7..11], &[64, 0, 0, 0]);
        assert_eq!(&lines[11..], &[9, 1, 16, 0, 0, 0]);
    }
}
