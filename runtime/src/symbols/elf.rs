//! The function symbols of one ELF file (an executable or shared library a process
//! maps), resolved as bcc resolves user addresses: walking down from the last function
//! starting at or below the address, the first whose `[start, start + size)` holds it.
//!
//! Symbols come from the file's `.symtab` (or, when it has none, the `.symtab` of the
//! separate debug file found by build id or `.gnu_debuglink` under `/usr/lib/debug`),
//! then its `.dynsym`. Of several functions at one address the last listed wins, which
//! is usually the exported name (`getppid` rather than `__GI_getppid`). bcc sorts with
//! an unstable sort, so bpftrace's pick among such aliases varies from one function to
//! the next (`getppid`, but `__GI___write`). Addresses are translated from file
//! offsets (what `/proc/PID/maps` gives) to virtual addresses through the `PT_LOAD`
//! segments, which works alike for executables, PIE executables and libraries.
//!
//! Invariant: symbols are sorted by start address, stably, so ties keep their listing
//! order; only defined functions with a non-zero size are kept.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind, SymbolSection};

use crate::output::Symbol;

/// Files larger than this are not read for symbols.
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Where distributions install separate debug files.
const DEBUG_DIR: &str = "/usr/lib/debug";
/// Symbols examined below an address before giving up on finding one that holds it.
const MAX_WALK: usize = 4096;

/// One function symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Function {
    start: u64,
    size: u64,
    name: Box<str>,
}

/// A `PT_LOAD` segment: where its bytes are in the file and in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    file_offset: u64,
    file_size: u64,
    vaddr: u64,
}

/// The function symbols and loadable segments of one ELF file.
#[derive(Debug, Default)]
pub(crate) struct ElfSymbols {
    segments: Vec<Segment>,
    functions: Vec<Function>,
}

impl ElfSymbols {
    /// Reads the file at `path` (and its debug file); `None` when it is not a readable
    /// ELF file.
    pub fn read(path: &Path) -> Option<Self> {
        let data = read_limited(path)?;
        let file = object::File::parse(&*data).ok()?;
        let mut table = Self {
            segments: segments(&file),
            functions: Vec::new(),
        };
        if file.symbol_table().is_some() {
            table.add(file.symbols());
        } else if let Some(debug) = debug_file(&file, path).and_then(|p| read_limited(&p)) {
            if let Ok(debug) = object::File::parse(&*debug) {
                table.add(debug.symbols());
            }
        }
        table.add(file.dynamic_symbols());
        table.functions.sort_by_key(|f| f.start);
        Some(table)
    }

    /// Parses an ELF image held in memory (no debug file is looked for).
    #[cfg(test)]
    pub fn parse(data: &[u8]) -> Option<Self> {
        let file = object::File::parse(data).ok()?;
        let mut table = Self {
            segments: segments(&file),
            functions: Vec::new(),
        };
        table.add(file.symbols());
        table.add(file.dynamic_symbols());
        table.functions.sort_by_key(|f| f.start);
        Some(table)
    }

    /// Appends the defined functions of `symbols`.
    fn add<'d: 'f, 'f>(&mut self, symbols: impl Iterator<Item = impl ObjectSymbol<'d>>) {
        for symbol in symbols {
            let defined = !matches!(symbol.section(), SymbolSection::Undefined);
            if symbol.kind() != SymbolKind::Text || !defined || symbol.size() == 0 {
                continue;
            }
            let Ok(name) = symbol.name_bytes() else {
                continue;
            };
            self.functions.push(Function {
                start: symbol.address(),
                size: symbol.size(),
                name: String::from_utf8_lossy(name).into(),
            });
        }
    }

    /// The function holding the byte at `file_offset` in the file, once loaded.
    pub fn resolve_file_offset(&self, file_offset: u64) -> Option<Symbol> {
        let segment = self
            .segments
            .iter()
            .find(|s| file_offset >= s.file_offset && file_offset - s.file_offset < s.file_size)?;
        self.resolve_vaddr(file_offset - segment.file_offset + segment.vaddr)
    }

    /// The file offset where the function `name` starts (of several so named, the last
    /// listed), as uprobes are placed.
    pub fn file_offset_of(&self, name: &str) -> Option<u64> {
        let function = self.functions.iter().rev().find(|f| &*f.name == name)?;
        let start = function.start;
        let segment = self
            .segments
            .iter()
            .find(|s| start >= s.vaddr && start - s.vaddr < s.file_size)?;
        Some(start - segment.vaddr + segment.file_offset)
    }

    /// The innermost function holding the virtual address `vaddr`; of several starting
    /// at the same address, the last listed.
    pub fn resolve_vaddr(&self, vaddr: u64) -> Option<Symbol> {
        let end = self.functions.partition_point(|f| f.start <= vaddr);
        let found = self.functions[..end]
            .iter()
            .rev()
            .take(MAX_WALK)
            .find(|f| vaddr - f.start < f.size)?;
        Some(Symbol {
            name: found.name.to_string(),
            offset: vaddr - found.start,
            module: None,
        })
    }
}

/// The `PT_LOAD` segments of `file`.
fn segments(file: &object::File<'_>) -> Vec<Segment> {
    file.segments()
        .map(|s| {
            let (file_offset, file_size) = s.file_range();
            Segment {
                file_offset,
                file_size,
                vaddr: s.address(),
            }
        })
        .collect()
}

/// The whole file, unless it is unreadable or implausibly large.
fn read_limited(path: &Path) -> Option<Vec<u8>> {
    let len = std::fs::metadata(path).ok()?.len();
    if len > MAX_FILE_BYTES {
        return None;
    }
    std::fs::read(path).ok()
}

/// The separate debug file of `file` (at `path`), if one is installed: by build id
/// (`/usr/lib/debug/.build-id/xx/yyyy.debug`), else by `.gnu_debuglink` next to the
/// file, in its `.debug` directory, or under `/usr/lib/debug`.
fn debug_file(file: &object::File<'_>, path: &Path) -> Option<PathBuf> {
    let by_id = file
        .build_id()
        .ok()
        .flatten()
        .filter(|id| id.len() > 1)
        .map(|id| {
            let mut rest = String::new();
            for b in &id[1..] {
                let _ = write!(rest, "{b:02x}");
            }
            PathBuf::from(format!("{DEBUG_DIR}/.build-id/{:02x}/{rest}.debug", id[0]))
        });
    let link = file.gnu_debuglink().ok().flatten().and_then(|(name, _)| {
        let name = std::str::from_utf8(name).ok()?;
        let dir = path.parent()?;
        let under_debug = Path::new(DEBUG_DIR).join(dir.strip_prefix("/").unwrap_or(dir));
        [
            dir.join(name),
            dir.join(".debug").join(name),
            under_debug.join(name),
        ]
        .into_iter()
        .find(|p| p.is_file() && p != path)
    });
    by_id.filter(|p| p.is_file()).or(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(start: u64, size: u64, name: &str) -> Function {
        Function {
            start,
            size,
            name: name.into(),
        }
    }

    fn table(functions: Vec<Function>) -> ElfSymbols {
        ElfSymbols {
            segments: vec![Segment {
                file_offset: 0x1000,
                file_size: 0x3000,
                vaddr: 0x401000,
            }],
            functions,
        }
    }

    fn name(table: &ElfSymbols, vaddr: u64) -> Option<String> {
        table.resolve_vaddr(vaddr).map(|s| s.name)
    }

    #[test]
    fn the_innermost_function_holding_the_address_wins() {
        let t = table(vec![
            function(0x401000, 0x100, "outer"),
            function(0x401010, 0x10, "inner"),
            function(0x401200, 0x10, "later"),
        ]);
        assert_eq!(name(&t, 0x401014).as_deref(), Some("inner"));
        assert_eq!(name(&t, 0x401020).as_deref(), Some("outer"));
        assert_eq!(name(&t, 0x401100), None);
        assert_eq!(name(&t, 0x400fff), None);
        assert_eq!(
            t.resolve_vaddr(0x401205),
            Some(Symbol {
                name: "later".into(),
                offset: 5,
                module: None,
            })
        );
    }

    /// glibc's debug file lists `getppid` as `__GI_getppid`, `__getppid`,
    /// `__GI___getppid`, then `getppid`, all at one address; `printf("%s", ustack(1))` in
    /// `uprobe:/lib/x86_64-linux-gnu/libc.so.6:getppid` printed `getppid+0`.
    #[test]
    fn the_last_listed_of_aliases_wins() {
        let names = ["__GI_getppid", "__getppid", "__GI___getppid", "getppid"];
        let mut t = table(names.iter().map(|n| function(0xd54f0, 8, n)).collect());
        t.functions.insert(0, function(0xd5400, 0x10, "before"));
        t.functions.push(function(0xd5500, 8, "__GI_getuid"));
        t.functions.sort_by_key(|f| f.start);
        assert_eq!(name(&t, 0xd54f0).as_deref(), Some("getppid"));
        assert_eq!(name(&t, 0xd54f8), None);
    }

    #[test]
    fn file_offsets_go_through_the_load_segments() {
        let t = table(vec![function(0x401500, 0x20, "f")]);
        assert_eq!(
            t.resolve_file_offset(0x1508),
            Some(Symbol {
                name: "f".into(),
                offset: 8,
                module: None,
            })
        );
        assert_eq!(t.resolve_file_offset(0x500), None);
        assert_eq!(t.resolve_file_offset(0x4000), None);
    }

    #[test]
    fn functions_are_found_at_their_file_offsets() {
        let exe = std::env::current_exe().unwrap();
        let table = ElfSymbols::read(&exe).unwrap();
        let main = table
            .file_offset_of("main")
            .expect("the test binary has main");
        let back = table.resolve_file_offset(main).unwrap();
        assert_eq!((back.name.as_str(), back.offset), ("main", 0));
        assert_eq!(table.file_offset_of("no_such_function_here"), None);
    }

    #[test]
    fn garbage_is_not_an_elf_file() {
        assert!(ElfSymbols::parse(b"not an elf").is_none());
        assert!(ElfSymbols::read(Path::new("/nonexistent/ebpfc")).is_none());
    }
}
