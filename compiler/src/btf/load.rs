//! Opening the database: from the running kernel, a directory laid out like
//! `/sys/kernel/btf`, a file, or bytes; and loading module split BTF on demand.
//!
//! vmlinux BTF is mapped read-only and private (the kernel allows this since 6.16), so
//! opening costs no copy; when mapping fails it is read instead. Other files are read.

use super::elf;
use super::error::BtfError;
use super::source::{Blob, Source};
use super::{KernelTypes, Modules};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the running kernel exposes its BTF.
pub const SYSTEM_BTF_DIR: &str = "/sys/kernel/btf";
const VMLINUX: &str = "vmlinux";

impl KernelTypes {
    /// The running kernel's types: `/sys/kernel/btf/vmlinux`, then module BTF on a miss.
    pub fn system() -> Result<Self, BtfError> {
        Self::from_dir(SYSTEM_BTF_DIR)
    }

    /// Types from a directory laid out like `/sys/kernel/btf`: `vmlinux` plus one split
    /// BTF file per module.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, BtfError> {
        let dir = dir.as_ref();
        let path = dir.join(VMLINUX);
        let blob = map_or_read(&path)?;
        let len = blob.bytes().len();
        let base = Source::new(VMLINUX.to_string(), blob, (0, len))?;
        Ok(Self::new(base, Some(dir.to_path_buf())))
    }

    /// Types from one file (`--btf FILE`): raw BTF, or an ELF file with a `.BTF` section.
    /// No module BTF is consulted.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, BtfError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| BtfError::io(path, e))?;
        let base = base_source(path.display().to_string(), bytes)?;
        Ok(Self::new(base, None))
    }

    /// Types from raw BTF (or ELF) bytes, with no modules.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, BtfError> {
        Ok(Self::new(base_source("<bytes>".to_string(), bytes)?, None))
    }

    /// Adds a module's split BTF on top of this database's base. Modules of the directory
    /// the database was opened from are loaded first, so their ids stay stable.
    pub fn with_module(mut self, name: &str, bytes: Vec<u8>) -> Result<Self, BtfError> {
        self.modules();
        let mut modules = self.modules.take().unwrap_or_default();
        let module = Source::split(name.to_string(), Blob::Owned(bytes), &self.base)?;
        modules.loaded.push(module);
        self.modules = OnceLock::from(modules);
        self.memo = Default::default();
        Ok(self)
    }

    /// Names of the loaded modules (loading them if needed).
    pub fn module_names(&self) -> Vec<&str> {
        let modules = &self.modules().loaded;
        modules.iter().map(|m| m.name.as_str()).collect()
    }

    /// Modules whose BTF could not be read, and why. Lookups skip them.
    pub fn module_failures(&self) -> &[(String, BtfError)] {
        &self.modules().failed
    }
}

fn base_source(name: String, bytes: Vec<u8>) -> Result<Source, BtfError> {
    let range = if elf::is_elf(&bytes) {
        elf::btf_range(&bytes)?
    } else {
        (0, bytes.len())
    };
    Source::new(name, Blob::Owned(bytes), range)
}

/// Maps `path` read-only, or reads it when it cannot be mapped.
fn map_or_read(path: &Path) -> Result<Blob, BtfError> {
    let file = File::open(path).map_err(|e| BtfError::io(path, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    // SAFETY: the kernel's BTF files are never modified while the kernel runs; for other
    // files a concurrent truncation is the caller's risk, as with any mapped input.
    let mapped = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) };
    match mapped {
        Ok(map) if len > 0 && map.len() as u64 == len => Ok(Blob::Mapped(map)),
        _ => std::fs::read(path)
            .map(Blob::Owned)
            .map_err(|e| BtfError::io(path, e)),
    }
}

/// Loads every module BTF file of `dir` (all files but `vmlinux`), in name order.
pub(super) fn modules(dir: &Path, base: &Source) -> Modules {
    let mut out = Modules::default();
    for (name, path) in module_files(dir) {
        let loaded = std::fs::read(&path)
            .map_err(|e| BtfError::io(&path, e))
            .and_then(|bytes| Source::split(name.clone(), Blob::Owned(bytes), base));
        match loaded {
            Ok(source) => out.loaded.push(source),
            Err(err) => out.failed.push((name, err)),
        }
    }
    out
}

fn module_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, path)| name != VMLINUX && path.is_file())
        .collect();
    files.sort();
    files.truncate(usize::from(u16::MAX) - 1);
    files
}
