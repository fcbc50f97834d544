//! Finding the file a uprobe names: a path, a program in `PATH`, or a shared library
//! given by short name (`libc`, `libssl`, `pthread`) as bpftrace's tools write them.
//!
//! A library name `N` matches the files `libN.so*` and `N.so*` (`libc` → `libc.so.6`).
//! They are looked up in the dynamic linker's cache (`/etc/ld.so.cache`, the
//! `glibc-ld.so.cache1.1` format), then in the standard directories and those listed in
//! `/etc/ld.so.conf.d/*.conf`. A library found this way is canonicalized, so the probe
//! names the real file rather than a symlink.

use std::path::{Path, PathBuf};

/// Where a uprobe's target was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binary {
    /// The path the probe attaches to.
    pub path: String,
    /// Whether it was found as a shared library by short name.
    pub library: bool,
}

/// Resolves a uprobe target as bpftrace does: a path is used as written, a bare name is
/// looked up in `PATH` and then as a shared library.
pub fn resolve_binary(target: &str) -> Result<Binary, String> {
    if target.contains('/') {
        return match Path::new(target).exists() {
            true => Ok(Binary {
                path: target.to_string(),
                library: false,
            }),
            false => Err(format!("'{target}' does not exist")),
        };
    }
    let dirs = std::env::var("PATH").unwrap_or_default();
    let in_path = dirs
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(target))
        .find(|p| p.is_file());
    if let Some(p) = in_path {
        return Ok(Binary {
            path: p.display().to_string(),
            library: false,
        });
    }
    match find_library(target) {
        Some(p) => Ok(Binary {
            path: p.display().to_string(),
            library: true,
        }),
        None => Err(format!(
            "'{target}' was not found in PATH nor as a shared library (lib{target}.so)"
        )),
    }
}

/// The shared library `name` refers to, canonicalized.
pub fn find_library(name: &str) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    let cached = std::fs::read(LD_SO_CACHE)
        .ok()
        .map(|bytes| cache_entries(&bytes))
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| library_matches(name, key))
        .map(|(_, path)| PathBuf::from(path));
    let searched = search_dirs()
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| {
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| library_matches(name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            files.sort();
            files
        });
    cached
        .chain(searched)
        .find_map(|p| p.canonicalize().ok().filter(|p| p.is_file()))
}

const LD_SO_CACHE: &str = "/etc/ld.so.cache";
const STANDARD_DIRS: [&str; 6] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// Whether `file` (a file name) is the library `name`: `libN.so*` or `N.so*`, where
/// what follows `.so` is nothing or a version (`.6`, `.1.1`).
pub fn library_matches(name: &str, file: &str) -> bool {
    let lib = format!("lib{name}");
    [lib.as_str(), name].iter().any(|stem| {
        file.strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix(".so"))
            .is_some_and(|v| v.is_empty() || v.starts_with('.'))
    })
}

/// The standard library directories, then those of `/etc/ld.so.conf.d/*.conf`.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = STANDARD_DIRS.iter().map(PathBuf::from).collect();
    let mut confs: Vec<PathBuf> = std::fs::read_dir("/etc/ld.so.conf.d")
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    confs.sort();
    for conf in confs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
    {
        let text = std::fs::read_to_string(conf).unwrap_or_default();
        dirs.extend(conf_dirs(&text).map(PathBuf::from));
    }
    dirs.dedup();
    dirs
}

/// The directories one `ld.so.conf` file lists (comments and `include` lines skipped).
fn conf_dirs(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| l.starts_with('/'))
}

const CACHE_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const CACHE_HEADER: usize = 48;
const CACHE_ENTRY: usize = 24;
/// `FLAG_X8664_LIB64` in the architecture bits of an entry's flags.
const ARCH_MASK: u32 = 0xff00;
const ARCH_X86_64: u32 = 0x0300;

/// The (soname, path) entries of an `ld.so.cache` in the new format, for this machine's
/// architecture; empty when the data is in another format or malformed.
pub fn cache_entries(data: &[u8]) -> Vec<(String, String)> {
    if !data.starts_with(CACHE_MAGIC) {
        return Vec::new();
    }
    let Some(count) = u32_at(data, CACHE_MAGIC.len()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 0..count as usize {
        let at = CACHE_HEADER + i * CACHE_ENTRY;
        let (Some(flags), Some(key), Some(value)) =
            (u32_at(data, at), u32_at(data, at + 4), u32_at(data, at + 8))
        else {
            break;
        };
        if cfg!(target_arch = "x86_64") && flags & ARCH_MASK != ARCH_X86_64 {
            continue;
        }
        if let (Some(key), Some(value)) = (c_str_at(data, key), c_str_at(data, value)) {
            out.push((key, value));
        }
    }
    out
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

fn c_str_at(data: &[u8], at: u32) -> Option<String> {
    let rest = data.get(at as usize..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    String::from_utf8(rest[..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names_match_versioned_files() {
        assert!(library_matches("libc", "libc.so.6"));
        assert!(library_matches("c", "libc.so.6"));
        assert!(library_matches("libssl", "libssl.so.3"));
        assert!(library_matches("libssl", "libssl.so"));
        assert!(!library_matches("libssl", "libssl3.so"));
        assert!(!library_matches("libc", "libcrypt.so.1"));
        assert!(!library_matches("libc", "libc.sonic"));
    }

    /// A cache with the given entries (flags, key, value), laid out as glibc writes it.
    fn cache(entries: &[(u32, &str, &str)]) -> Vec<u8> {
        let mut data = CACHE_MAGIC.to_vec();
        data.extend((entries.len() as u32).to_ne_bytes());
        data.resize(CACHE_HEADER + entries.len() * CACHE_ENTRY, 0);
        for (i, (flags, key, value)) in entries.iter().enumerate() {
            let at = CACHE_HEADER + i * CACHE_ENTRY;
            let key_at = data.len() as u32;
            data.extend(key.as_bytes());
            data.push(0);
            let value_at = data.len() as u32;
            data.extend(value.as_bytes());
            data.push(0);
            data[at..at + 4].copy_from_slice(&flags.to_ne_bytes());
            data[at + 4..at + 8].copy_from_slice(&key_at.to_ne_bytes());
            data[at + 8..at + 12].copy_from_slice(&value_at.to_ne_bytes());
        }
        data
    }

    #[test]
    fn cache_entries_parse_and_survive_garbage() {
        let data = cache(&[
            (0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),
            (0x0303, "libssl.so.3", "/lib/x86_64-linux-gnu/libssl.so.3"),
        ]);
        let entries = cache_entries(&data);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, "libc.so.6");
        assert_eq!(entries[1].1, "/lib/x86_64-linux-gnu/libssl.so.3");
        for cut in 0..data.len() {
            let _ = cache_entries(&data[..cut]);
        }
        assert!(cache_entries(b"ld.so-1.7.0\0").is_empty());
    }

    #[test]
    fn conf_files_list_directories() {
        let dirs: Vec<_> =
            conf_dirs("# comment\n/usr/local/lib\ninclude x\n /opt/lib # x\n").collect();
        assert_eq!(dirs, ["/usr/local/lib", "/opt/lib"]);
    }
}
