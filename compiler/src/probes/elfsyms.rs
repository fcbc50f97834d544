//! The functions of an ELF binary or shared library, for uprobe wildcards, checking that
//! a named function exists, and `-l`.
//!
//! Function symbols (`STT_FUNC`, `STT_GNU_IFUNC`) defined in the file are read from
//! `.dynsym` and `.symtab`. Dynamic symbols carry their GNU version: the default version
//! (`getenv@@GLIBC_2.2.5`) is shown and matched by its plain name, a hidden one
//! (`pthread_create@GLIBC_2.2.5`) by the versioned spelling. Files are read once per
//! process. Malformed files give an error, never a panic.

use crate::probes::glob;
use object::elf;
use object::read::elf::{Dyn, FileHeader, Sym};
use object::read::SymbolIndex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// One function symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ElfFunc {
    /// The name as the symbol table spells it: what the uprobe loader looks up.
    pub name: String,
    /// The GNU symbol version of a dynamic symbol.
    pub version: Option<String>,
    /// Whether the version is hidden (`name@VER`, not the default `name@@VER`).
    pub hidden: bool,
}

impl ElfFunc {
    /// How `-l` shows the symbol and how a wildcard is matched against it: the plain name,
    /// or `name@VERSION` for a hidden version.
    pub fn display(&self) -> String {
        match (&self.version, self.hidden) {
            (Some(v), true) => format!("{}@{v}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Whether `want`, as a user wrote it, names this symbol: `getenv` names
    /// `getenv@@GLIBC_2.2.5`; `name@VER` and `name@@VER` name that exact version.
    pub fn is_named(&self, want: &str) -> bool {
        let base = self.name.split('@').next().unwrap_or_default();
        if !want.contains('@') {
            return base == want;
        }
        if self.name == want {
            return true;
        }
        self.version.as_ref().is_some_and(|v| {
            let sep = if self.hidden { "@" } else { "@@" };
            want == format!("{}{sep}{v}", self.name) || want == format!("{}@{v}", self.name)
        })
    }
}

/// The functions of one file and the libraries it needs.
#[derive(Debug, Clone, Default)]
pub struct ElfSymbols {
    funcs: Vec<ElfFunc>,
    needed: Vec<String>,
}

impl ElfSymbols {
    /// The symbols of the file at `path`, read once per process.
    pub fn of_file(path: &str) -> Result<Arc<ElfSymbols>, String> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<ElfSymbols>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(found) = lock(cache).get(path) {
            return Ok(found.clone());
        }
        let data =
            std::fs::read(Path::new(path)).map_err(|e| format!("cannot read {path}: {e}"))?;
        let symbols = Arc::new(
            Self::parse(&data).map_err(|e| format!("cannot read symbols of {path}: {e}"))?,
        );
        lock(cache).insert(path.to_string(), symbols.clone());
        Ok(symbols)
    }

    /// Parses a 64-bit ELF file.
    pub fn parse(data: &[u8]) -> Result<ElfSymbols, String> {
        let header = elf::FileHeader64::<object::Endianness>::parse(data).map_err(err)?;
        let endian = header.endian().map_err(err)?;
        let sections = header.sections(endian, data).map_err(err)?;
        let mut funcs = Vec::new();
        for kind in [elf::SHT_DYNSYM, elf::SHT_SYMTAB] {
            let table = sections.symbols(endian, data, kind).map_err(err)?;
            let versions = match kind {
                elf::SHT_DYNSYM => sections.versions(endian, data).map_err(err)?,
                _ => None,
            };
            for (index, sym) in table.enumerate() {
                let is_func = matches!(sym.st_type(), elf::STT_FUNC | elf::STT_GNU_IFUNC);
                if !is_func || sym.is_undefined(endian) || sym.st_value(endian) == 0 {
                    continue;
                }
                let Ok(name) = table.symbol_name(endian, sym) else {
                    continue;
                };
                let name = String::from_utf8_lossy(name).into_owned();
                let (version, hidden) = match &versions {
                    Some(v) => version_of(v, endian, index),
                    None => (None, false),
                };
                funcs.push(ElfFunc {
                    name,
                    version,
                    hidden,
                });
            }
        }
        funcs.sort();
        funcs.dedup();
        let needed = needed_libraries(&sections, endian, data).unwrap_or_default();
        Ok(ElfSymbols { funcs, needed })
    }

    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// The function `want` names, preferring the default version.
    pub fn find(&self, want: &str) -> Option<&ElfFunc> {
        let mut named = self.funcs.iter().filter(|f| f.is_named(want));
        let first = named.next()?;
        Some(
            std::iter::once(first)
                .chain(named)
                .find(|f| !f.hidden)
                .unwrap_or(first),
        )
    }

    /// Functions whose [`display`](ElfFunc::display) name matches `pattern`, one per
    /// displayed name, sorted.
    pub fn matching(&self, pattern: &str) -> Vec<(String, &ElfFunc)> {
        let mut out: Vec<(String, &ElfFunc)> = self
            .funcs
            .iter()
            .map(|f| (f.display(), f))
            .filter(|(shown, _)| glob(pattern, shown))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.hidden.cmp(&b.1.hidden)));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// The displayed name closest to `want`, if one is close enough to be a typo.
    pub fn near(&self, want: &str) -> Option<String> {
        let shown: Vec<String> = self.funcs.iter().map(ElfFunc::display).collect();
        crate::suggest::did_you_mean(want, shown.iter().map(String::as_str)).map(str::to_string)
    }

    /// The sonames of the libraries the file needs (`DT_NEEDED`).
    pub fn needed(&self) -> &[String] {
        &self.needed
    }
}

/// A data object (`STT_OBJECT`) defined in an ELF file: its address as the file gives it
/// (`st_value`) and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSymbol {
    pub address: u64,
    pub size: u64,
}

/// The data object `name` of the ELF file at `path`, from `.symtab` or `.dynsym`.
pub fn data_symbol(path: &str, name: &str) -> Result<Option<DataSymbol>, String> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let data = std::fs::read(Path::new(path)).map_err(|e| format!("cannot read {path}: {e}"))?;
    let file = object::File::parse(&*data).map_err(|e| format!("cannot read {path}: {e}"))?;
    let found = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Data && !s.is_undefined())
        .find(|s| s.name() == Ok(name))
        .map(|s| DataSymbol {
            address: s.address(),
            size: s.size(),
        });
    Ok(found)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn err(e: object::read::Error) -> String {
    e.to_string()
}

type Elf64 = elf::FileHeader64<object::Endianness>;

fn version_of(
    versions: &object::read::elf::VersionTable<'_, Elf64>,
    endian: object::Endianness,
    index: SymbolIndex,
) -> (Option<String>, bool) {
    let vindex = versions.version_index(endian, index);
    match versions.version(vindex) {
        Ok(Some(v)) => (
            Some(String::from_utf8_lossy(v.name()).into_owned()),
            vindex.is_hidden(),
        ),
        _ => (None, false),
    }
}

fn needed_libraries(
    sections: &object::read::elf::SectionTable<'_, Elf64>,
    endian: object::Endianness,
    data: &[u8],
) -> Option<Vec<String>> {
    let (entries, link) = sections.dynamic(endian, data).ok()??;
    let strings = sections.strings(endian, data, link).ok()?;
    let needed = entries
        .iter()
        .filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED))
        .filter_map(|d| d.string(endian, strings).ok())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    Some(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(name: &str, version: Option<&str>, hidden: bool) -> ElfFunc {
        ElfFunc {
            name: name.to_string(),
            version: version.map(str::to_string),
            hidden,
        }
    }

    fn symbols() -> ElfSymbols {
        let mut funcs = vec![
            func("getenv", Some("GLIBC_2.2.5"), false),
            func("pthread_create", Some("GLIBC_2.2.5"), true),
            func("pthread_create", Some("GLIBC_2.34"), false),
            func("read_command", None, false),
            func("read_history", None, false),
            func("readline@GLIBC_2.2.5", None, false),
        ];
        funcs.sort();
        ElfSymbols {
            funcs,
            needed: Vec::new(),
        }
    }

    #[test]
    fn versioned_names_match_plain_and_versioned_spellings() {
        let syms = symbols();
        assert_eq!(syms.find("getenv").map(|f| f.name.as_str()), Some("getenv"));
        assert!(syms.find("getenv@@GLIBC_2.2.5").is_some());
        assert!(syms.find("getenv@GLIBC_2.2.5").is_some());
        assert!(syms.find("getenv@@GLIBC_2.3").is_none());
        let pc = syms.find("pthread_create").expect("found");
        assert_eq!(pc.version.as_deref(), Some("GLIBC_2.34"));
        let old = syms.find("pthread_create@GLIBC_2.2.5").expect("found");
        assert!(old.hidden);
        assert!(syms.find("readline").is_some());
        assert!(syms.find("getenvx").is_none());
        assert_eq!(syms.near("getenx").as_deref(), Some("getenv"));
    }

    #[test]
    fn wildcards_match_displayed_names_once() {
        let syms = symbols();
        let shown: Vec<String> = syms.matching("read*").into_iter().map(|m| m.0).collect();
        assert_eq!(
            shown,
            ["read_command", "read_history", "readline@GLIBC_2.2.5"]
        );
        let shown: Vec<String> = syms
            .matching("pthread_*")
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(shown, ["pthread_create", "pthread_create@GLIBC_2.2.5"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(ElfSymbols::parse(b"").is_err());
        assert!(ElfSymbols::parse(b"#!/bin/sh\necho hi\n").is_err());
        let mut bytes = std::fs::read("/proc/self/exe").unwrap_or_default();
        bytes.truncate(bytes.len().min(4096));
        let _ = ElfSymbols::parse(&bytes);
    }

    #[test]
    fn finds_data_objects_but_not_functions() {
        let exe = std::env::current_exe().expect("test binary path");
        let path = exe.display().to_string();
        let found = data_symbol(&path, "DATA_SYMBOL_PROBE").expect("an ELF file");
        let found = found.expect("the static is in the symbol table");
        assert_eq!(found.size, 8);
        assert_eq!(data_symbol(&path, "main"), Ok(None));
        assert!(data_symbol("/nonexistent", "x").is_err());
    }

    #[no_mangle]
    #[used]
    static DATA_SYMBOL_PROBE: u64 = 7;

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().expect("test binary path");
        let syms = ElfSymbols::of_file(&exe.display().to_string()).expect("an ELF file");
        assert!(!syms.is_empty());
        assert!(syms.find("main").is_some());
    }
}
