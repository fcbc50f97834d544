//! USDT probes: the `.note.stapsdt` ELF notes of a binary or library, for `usdt:`
//! attach points (wildcards over providers and names) and `-l 'usdt:/path:*'`.
//!
//! Each note is one probe site: its address, the `.stapsdt.base` address it was linked
//! against (sites move with prelinking), its semaphore's address (0: none), provider,
//! name and argument specs (`-4@%edi 8@-16(%rbp) 8@$5`). Addresses become file offsets
//! through the `PT_LOAD` segment holding them: the uprobe is placed at the site's file
//! offset, and the kernel counts the semaphore at its file offset (`ref_ctr_offset`).
//! Argument specs are parsed for x86-64 into [`UsdtArg`]s (register operands as
//! `struct pt_regs` offsets). Malformed files and notes give errors or are skipped,
//! never a panic.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::Endianness;

/// Note type of SystemTap SDT probe descriptors.
const NT_STAPSDT: u32 = 3;

/// One probe site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtSite {
    pub provider: String,
    pub name: String,
    /// File offset of the probed instruction.
    pub offset: u64,
    /// File offset of the semaphore, if the probe has one.
    pub semaphore: Option<u64>,
    /// The argument specs as written in the note.
    pub args_spec: String,
}

impl UsdtSite {
    /// The site's arguments; `None` when a spec is not understood.
    pub fn args(&self) -> Option<Vec<UsdtArg>> {
        self.args_spec
            .split_whitespace()
            .map(UsdtArg::parse)
            .collect()
    }
}

/// Where one USDT argument lives when the probe fires (x86-64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsdtLoc {
    /// A constant (`$5`).
    Const(i64),
    /// A register: its offset in `struct pt_regs`.
    Reg(i32),
    /// User memory at a register's value plus a displacement (`-16(%rbp)`).
    Mem { base: i32, disp: i64 },
}

/// One USDT argument: its size in bytes, signedness and location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdtArg {
    pub size: u8,
    pub signed: bool,
    pub loc: UsdtLoc,
}

impl UsdtArg {
    /// Parses one spec: `[-]SIZE@OPERAND`, or a bare operand (8 bytes).
    pub fn parse(spec: &str) -> Option<UsdtArg> {
        let (size, operand) = match spec.split_once('@') {
            Some((size, operand)) => (size.parse::<i8>().ok()?, operand),
            None => (8, spec),
        };
        let bytes = size.unsigned_abs();
        if ![1, 2, 4, 8].contains(&bytes) {
            return None;
        }
        let loc = if let Some(value) = operand.strip_prefix('$') {
            UsdtLoc::Const(parse_int(value)?)
        } else if let Some(reg) = operand.strip_prefix('%') {
            UsdtLoc::Reg(pt_regs_offset(reg)?)
        } else {
            let (disp, rest) = operand.split_once('(')?;
            let reg = rest.strip_suffix(')')?.strip_prefix('%')?;
            let disp = if disp.is_empty() { 0 } else { parse_int(disp)? };
            UsdtLoc::Mem {
                base: pt_regs_offset(reg)?,
                disp,
            }
        };
        Some(UsdtArg {
            size: bytes,
            signed: size < 0,
            loc,
        })
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let value = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// The `struct pt_regs` offset of an x86-64 register, by any of its names
/// (`rax`, `eax`, `ax`, `al`; `r8`, `r8d`, `r8w`, `r8b`).
fn pt_regs_offset(reg: &str) -> Option<i32> {
    const REGS: [(&[&str], i32); 18] = [
        (&["r15", "r15d", "r15w", "r15b"], 0),
        (&["r14", "r14d", "r14w", "r14b"], 8),
        (&["r13", "r13d", "r13w", "r13b"], 16),
        (&["r12", "r12d", "r12w", "r12b"], 24),
        (&["rbp", "ebp", "bp", "bpl"], 32),
        (&["rbx", "ebx", "bx", "bl", "bh"], 40),
        (&["r11", "r11d", "r11w", "r11b"], 48),
        (&["r10", "r10d", "r10w", "r10b"], 56),
        (&["r9", "r9d", "r9w", "r9b"], 64),
        (&["r8", "r8d", "r8w", "r8b"], 72),
        (&["rax", "eax", "ax", "al", "ah"], 80),
        (&["rcx", "ecx", "cx", "cl", "ch"], 88),
        (&["rdx", "edx", "dx", "dl", "dh"], 96),
        (&["rsi", "esi", "si", "sil"], 104),
        (&["rdi", "edi", "di", "dil"], 112),
        (&["rip", "eip", "ip"], 128),
        (&["rsp", "esp", "sp", "spl"], 152),
        (&["eflags"], 144),
    ];
    REGS.iter()
        .find(|(names, _)| names.contains(&reg))
        .map(|(_, offset)| *offset)
}

/// Every USDT site of the file at `path`.
pub fn sites_of_file(path: &str) -> Result<Vec<UsdtSite>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse(&data).map_err(|e| format!("cannot read the USDT notes of {path}: {e}"))
}

/// The USDT sites of a 64-bit ELF file.
pub fn parse(data: &[u8]) -> Result<Vec<UsdtSite>, String> {
    let header = elf::FileHeader64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    let sections = header.sections(endian, data).map_err(|e| e.to_string())?;
    let section = |name: &[u8]| sections.section_by_name(endian, name).map(|(_, s)| s);
    let Some(notes) = section(b".note.stapsdt") else {
        return Ok(Vec::new());
    };
    let base = section(b".stapsdt.base").map(|s| s.sh_addr(endian));
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?;
    let loads: Vec<(u64, u64, u64)> = segments
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .map(|p| (p.p_vaddr(endian), p.p_filesz(endian), p.p_offset(endian)))
        .collect();
    let file_offset = |addr: u64| {
        loads
            .iter()
            .find(|(vaddr, size, _)| (*vaddr..vaddr.saturating_add(*size)).contains(&addr))
            .map(|(vaddr, _, offset)| addr - vaddr + offset)
    };
    let bytes = notes.data(endian, data).map_err(|e| e.to_string())?;
    let mut sites = Vec::new();
    for (kind, desc) in note_entries(bytes, endian) {
        if kind != NT_STAPSDT {
            continue;
        }
        let Some(note) = Note::parse(desc, endian) else {
            continue;
        };
        let shift = |addr: u64| match (base, note.base) {
            (Some(actual), linked) if linked != 0 => addr.wrapping_add(actual.wrapping_sub(linked)),
            _ => addr,
        };
        let Some(offset) = file_offset(shift(note.pc)) else {
            continue;
        };
        let semaphore = match note.semaphore {
            0 => None,
            addr => Some(file_offset(addr).ok_or("a semaphore is outside every segment")?),
        };
        sites.push(UsdtSite {
            provider: note.provider,
            name: note.name,
            offset,
            semaphore,
            args_spec: note.args,
        });
    }
    Ok(sites)
}

/// The `(type, descriptor)` of each `stapsdt` note in a note section.
fn note_entries(mut bytes: &[u8], endian: Endianness) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let word = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|w| endian_u32(endian, w.try_into().unwrap_or_default()))
    };
    while let (Some(namesz), Some(descsz), Some(kind)) =
        (word(bytes, 0), word(bytes, 4), word(bytes, 8))
    {
        let name_end = 12 + namesz as usize;
        let desc_start = 12 + (namesz as usize).next_multiple_of(4);
        let desc_end = desc_start + descsz as usize;
        let (Some(name), Some(desc)) = (bytes.get(12..name_end), bytes.get(desc_start..desc_end))
        else {
            break;
        };
        if name == b"stapsdt\0" {
            out.push((kind, desc));
        }
        bytes = bytes
            .get(desc_end.next_multiple_of(4)..)
            .unwrap_or_default();
    }
    out
}

fn endian_u32(endian: Endianness, bytes: [u8; 4]) -> u32 {
    match endian {
        Endianness::Little => u32::from_le_bytes(bytes),
        Endianness::Big => u32::from_be_bytes(bytes),
    }
}

/// The descriptor of one note: three addresses, then provider, name and arguments as
/// NUL-terminated strings.
struct Note {
    pc: u64,
    base: u64,
    semaphore: u64,
    provider: String,
    name: String,
    args: String,
}

impl Note {
    fn parse(desc: &[u8], endian: Endianness) -> Option<Note> {
        let addr = |i: usize| {
            let bytes: [u8; 8] = desc.get(i * 8..i * 8 + 8)?.try_into().ok()?;
            Some(match endian {
                Endianness::Little => u64::from_le_bytes(bytes),
                Endianness::Big => u64::from_be_bytes(bytes),
            })
        };
        let (pc, base, semaphore) = (addr(0)?, addr(1)?, addr(2)?);
        let mut strings = desc.get(24..)?.split(|b| *b == 0);
        let mut text = || String::from_utf8(strings.next()?.to_vec()).ok();
        let (provider, name) = (text()?, text()?);
        let args = text().unwrap_or_default();
        if provider.is_empty() || name.is_empty() {
            return None;
        }
        Some(Note {
            pc,
            base,
            semaphore,
            provider,
            name,
            args,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_specs_parse() {
        let arg = |s| UsdtArg::parse(s).unwrap();
        assert_eq!(
            arg("-4@%edi"),
            UsdtArg {
                size: 4,
                signed: true,
                loc: UsdtLoc::Reg(112)
            }
        );
        assert_eq!(
            arg("8@-16(%rbp)").loc,
            UsdtLoc::Mem {
                base: 32,
                disp: -16
            }
        );
        assert_eq!(
            arg("-4@112(%rsp)").loc,
            UsdtLoc::Mem {
                base: 152,
                disp: 112
            }
        );
        assert_eq!(arg("8@$5").loc, UsdtLoc::Const(5));
        assert_eq!(arg("2@(%rax)").loc, UsdtLoc::Mem { base: 80, disp: 0 });
        assert_eq!(arg("%r15").size, 8);
        assert_eq!(UsdtArg::parse("3@%rax"), None);
        assert_eq!(UsdtArg::parse("8@%xmm0"), None);
        assert_eq!(UsdtArg::parse("8@"), None);
    }

    /// A note section with one site, as a linker lays it out.
    fn note(pc: u64, base: u64, sema: u64, strings: &str) -> Vec<u8> {
        let mut desc = [pc, base, sema]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>();
        desc.extend(strings.as_bytes());
        let mut out = Vec::new();
        out.extend(8u32.to_le_bytes());
        out.extend((desc.len() as u32).to_le_bytes());
        out.extend(NT_STAPSDT.to_le_bytes());
        out.extend(b"stapsdt\0");
        out.extend(&desc);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    #[test]
    fn notes_are_read_in_order_and_truncation_is_not_a_panic() {
        let mut section = note(0x10, 0x20, 0, "prov\0one\0-4@%edi\0");
        section.extend(note(0x30, 0x20, 0x40, "prov\0two\0\0"));
        let found = note_entries(&section, Endianness::Little);
        assert_eq!(found.len(), 2);
        let two = Note::parse(found[1].1, Endianness::Little).unwrap();
        assert_eq!((two.pc, two.semaphore), (0x30, 0x40));
        assert_eq!((two.provider.as_str(), two.name.as_str()), ("prov", "two"));
        for cut in 0..section.len() {
            let entries = note_entries(&section[..cut], Endianness::Little);
            for (_, desc) in entries {
                let _ = Note::parse(desc, Endianness::Little);
            }
        }
    }

    #[test]
    fn files_without_notes_have_no_sites() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(sites_of_file(exe.to_str().unwrap()).unwrap(), vec![]);
        assert!(parse(b"not an elf file").is_err());
    }
}
