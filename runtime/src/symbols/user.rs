//! The executable mappings of a process, from `/proc/PID/maps`, and the translation of
//! an address into a file and an offset in it.
//!
//! Invariant: only executable mappings of files (a path starting with `/`, not
//! `(deleted)`) are kept, as bcc keeps them; anything else (the vdso, anonymous JIT
//! code) has no symbols.

use std::path::PathBuf;

/// One executable file mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub start: u64,
    pub end: u64,
    /// Offset in the file of the byte mapped at `start`.
    pub offset: u64,
    /// `device:inode` as the maps file shows it, to tell files with one path apart.
    pub file_id: String,
    pub path: PathBuf,
}

impl Mapping {
    /// The file offset of `addr`, if this mapping holds it.
    pub fn file_offset(&self, addr: u64) -> Option<u64> {
        (self.start..self.end)
            .contains(&addr)
            .then(|| addr - self.start + self.offset)
    }
}

/// The executable file mappings of process `pid`; empty when it cannot be read (the
/// process has exited).
pub(crate) fn mappings(pid: u32) -> Vec<Mapping> {
    std::fs::read(format!("/proc/{pid}/maps")).map_or_else(|_| Vec::new(), |t| parse_maps(&t))
}

/// Parses the lines of a maps file.
pub(crate) fn parse_maps(text: &[u8]) -> Vec<Mapping> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| parse_line(std::str::from_utf8(line).ok()?))
        .collect()
}

/// `START-END PERMS OFFSET DEV INODE PATH`, kept when executable and backed by a file.
fn parse_line(line: &str) -> Option<Mapping> {
    let mut rest = line;
    let mut field = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        rest = &trimmed[end..];
        Some(&trimmed[..end]).filter(|f| !f.is_empty())
    };
    let (range, perms, offset, dev, inode) = (field()?, field()?, field()?, field()?, field()?);
    let path = rest.trim();
    if perms.as_bytes().get(2) != Some(&b'x')
        || !path.starts_with('/')
        || path.ends_with(" (deleted)")
    {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    Some(Mapping {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        offset: u64::from_str_radix(offset, 16).ok()?,
        file_id: format!("{dev}:{inode}"),
        path: PathBuf::from(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &[u8] = b"\
55d0c4a00000-55d0c4a2f000 r--p 00000000 08:01 1311 /usr/bin/bash
55d0c4a2f000-55d0c4b0a000 r-xp 0002f000 08:01 1311 /usr/bin/bash
7f0acae67000-7f0acae8f000 r--p 00000000 08:01 2050 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0acae8f000-7f0acaff1000 r-xp 00028000 08:01 2050 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0acb000000-7f0acb001000 r-xp 00000000 00:00 0
7f0acb002000-7f0acb003000 r-xp 00000000 08:01 99 /tmp/my lib.so
7f0acb004000-7f0acb005000 r-xp 00000000 08:01 98 /tmp/old.so (deleted)
7ffd5e1f1000-7ffd5e1f3000 r-xp 00000000 00:00 0                          [vdso]
truncated 7f
";

    #[test]
    fn keeps_executable_file_mappings() {
        let maps = parse_maps(MAPS);
        let paths: Vec<_> = maps.iter().map(|m| m.path.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/usr/bin/bash",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/tmp/my lib.so"
            ]
        );
        let libc = &maps[1];
        assert_eq!(libc.file_id, "08:01:2050");
        // The write() entry bpftrace saw at 0x7f0acaf5f340: file offset 0xf8340.
        assert_eq!(libc.file_offset(0x7f0acaf5f340), Some(0xf8340));
        assert_eq!(libc.file_offset(0x7f0acaff1000), None);
    }
}
