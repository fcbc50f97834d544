//! Finding the `.BTF` section of a 64-bit little-endian ELF file (a `vmlinux` passed as
//! `--btf`), without an ELF library: only the section headers are read.

use super::error::BtfError;
use super::raw::u32_at;

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const CLASS_64: u8 = 2;
const DATA_LE: u8 = 1;
const SECTION_NAME: &[u8] = b".BTF\0";

/// Whether `data` starts like an ELF file.
pub(crate) fn is_elf(data: &[u8]) -> bool {
    data.starts_with(ELF_MAGIC)
}

fn u64_at(data: &[u8], off: usize) -> Option<usize> {
    let bytes = data.get(off..off.checked_add(8)?)?;
    usize::try_from(u64::from_le_bytes(bytes.try_into().ok()?)).ok()
}

fn u16_at(data: &[u8], off: usize) -> Option<usize> {
    let bytes = data.get(off..off.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes(bytes.try_into().ok()?)))
}

/// One section header: name offset, file offset, size.
fn section(data: &[u8], shoff: usize, entsize: usize, i: usize) -> Option<(u32, usize, usize)> {
    let at = shoff.checked_add(entsize.checked_mul(i)?)?;
    Some((
        u32_at(data, at)?,
        u64_at(data, at + 0x18)?,
        u64_at(data, at + 0x20)?,
    ))
}

/// The byte range of the `.BTF` section of the ELF file `data`.
pub(crate) fn btf_range(data: &[u8]) -> Result<(usize, usize), BtfError> {
    if data.get(4) != Some(&CLASS_64) || data.get(5) != Some(&DATA_LE) {
        return Err(BtfError::BadHeader(
            "only 64-bit little-endian ELF is supported",
        ));
    }
    let bad = || BtfError::BadHeader("ELF section headers");
    let shoff = u64_at(data, 0x28).ok_or_else(bad)?;
    let entsize = u16_at(data, 0x3a).ok_or_else(bad)?;
    let count = u16_at(data, 0x3c).ok_or_else(bad)?;
    let strndx = u16_at(data, 0x3e).ok_or_else(bad)?;
    let (_, names, _) = section(data, shoff, entsize, strndx).ok_or_else(bad)?;
    for i in 0..count {
        let (name, off, size) = section(data, shoff, entsize, i).ok_or_else(bad)?;
        let name_at = names.checked_add(name as usize).ok_or_else(bad)?;
        if data
            .get(name_at..)
            .is_some_and(|n| n.starts_with(SECTION_NAME))
        {
            let end = off.checked_add(size).filter(|&e| e <= data.len());
            return end.map(|end| (off, end)).ok_or_else(bad);
        }
    }
    Err(BtfError::NoBtfSection)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF file: a name table and a `.BTF` section holding `btf`, then the
    /// section headers (null, `.shstrtab`, `.BTF`).
    fn elf(btf: &[u8]) -> Vec<u8> {
        let names = b"\0.shstrtab\0.BTF\0";
        let mut out = vec![0u8; 64];
        out[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1]);
        let names_at = out.len();
        out.extend(names);
        let btf_at = out.len();
        out.extend(btf);
        let shoff = out.len();
        out[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        out[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        out[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        out[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        let sections = [
            (0, 0, 0),
            (1, names_at, names.len()),
            (11, btf_at, btf.len()),
        ];
        for (name, off, size) in sections {
            let mut sh = [0u8; 64];
            sh[..4].copy_from_slice(&(name as u32).to_le_bytes());
            sh[0x18..0x20].copy_from_slice(&(off as u64).to_le_bytes());
            sh[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
            out.extend(sh);
        }
        out
    }

    #[test]
    fn finds_the_btf_section() {
        let data = elf(b"BTFDATA");
        assert!(is_elf(&data));
        let (start, end) = btf_range(&data).unwrap();
        assert_eq!(&data[start..end], b"BTFDATA");
    }

    #[test]
    fn truncated_elf_is_an_error() {
        let data = elf(b"BTFDATA");
        for len in 0..data.len() - 24 {
            assert!(btf_range(&data[..len]).is_err(), "{len} bytes");
        }
    }
}
