//! `cgroup_path()` texts: the paths a cgroup id has in the mounted cgroup hierarchies.
//!
//! A hierarchy is a `cgroup` or `cgroup2` mount from `/proc/mounts`; cgroup2 mounts are
//! named `unified`, cgroup1 mounts by their directory's name. A cgroup's id is its
//! directory's inode number, so finding it is a walk of each hierarchy. The text lists
//! `name:path` for every hierarchy (cgroup2 first, then cgroup1 by name) whose name
//! matches the filter and that holds the id, joined by commas.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hierarchy {
    /// Sorts cgroup2 before cgroup1.
    v1: bool,
    name: String,
    root: String,
}

/// The `cgroup_path()` text of cgroup `id` in hierarchies whose names match `filter`.
pub(super) fn paths(id: u64, filter: &str) -> Vec<u8> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let found: Vec<String> = hierarchies(&mounts)
        .into_iter()
        .filter(|h| wildcard_match(filter, &h.name))
        .filter_map(|h| Some(format!("{}:{}", h.name, find(Path::new(&h.root), id)?)))
        .collect();
    found.join(",").into_bytes()
}

/// The cgroup hierarchies mounted per `mounts` (the text of `/proc/mounts`), sorted.
fn hierarchies(mounts: &str) -> Vec<Hierarchy> {
    let mut found: Vec<Hierarchy> = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_source, root, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            let v1 = match fstype {
                "cgroup" => true,
                "cgroup2" => false,
                _ => return None,
            };
            let name = if v1 {
                Path::new(root).file_name()?.to_string_lossy().into_owned()
            } else {
                "unified".to_string()
            };
            Some(Hierarchy {
                v1,
                name,
                root: root.to_string(),
            })
        })
        .collect();
    found.sort();
    found
}

/// The path under `root` of the directory whose inode is `id` (`/` for the root).
fn find(root: &Path, id: u64) -> Option<String> {
    if std::fs::metadata(root).ok()?.ino() == id {
        return Some("/".to_string());
    }
    walkdir(root, root, id)
}

fn walkdir(root: &Path, dir: &Path, id: u64) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    let dirs: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .collect();
    for entry in &dirs {
        if entry.metadata().is_ok_and(|m| m.ino() == id) {
            let rel = entry.path();
            let rel = rel.strip_prefix(root).ok()?;
            return Some(format!("/{}", rel.display()));
        }
    }
    dirs.iter().find_map(|e| walkdir(root, &e.path(), id))
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hierarchies_put_cgroup2_first_then_cgroup1_by_name() {
        let mounts = "cgroup /sys/fs/cgroup/pids cgroup rw 0 0\n\
                      proc /proc proc rw 0 0\n\
                      cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw 0 0\n\
                      cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
        let names: Vec<String> = hierarchies(mounts).into_iter().map(|h| h.name).collect();
        assert_eq!(names, ["unified", "cpu,cpuacct", "pids"]);
    }

    #[test]
    fn wildcards_match_any_run() {
        assert!(wildcard_match("*", "unified"));
        assert!(wildcard_match("unified", "unified"));
        assert!(wildcard_match("cpu*", "cpuacct"));
        assert!(wildcard_match("*acct", "cpuacct"));
        assert!(wildcard_match("c*a*t", "cpuacct"));
        assert!(!wildcard_match("cpu", "cpuacct"));
        assert!(!wildcard_match("*x*", "cpuacct"));
    }

    #[test]
    fn finds_directories_by_inode() {
        let dir = std::env::temp_dir().join(format!("ebpfc-cgroup-{}", std::process::id()));
        let sub = dir.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let ino = std::fs::metadata(&sub).unwrap().ino();
        let root_ino = std::fs::metadata(&dir).unwrap().ino();
        assert_eq!(find(&dir, ino).as_deref(), Some("/a/b"));
        assert_eq!(find(&dir, root_ino).as_deref(), Some("/"));
        assert_eq!(find(&dir, u64::MAX), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
