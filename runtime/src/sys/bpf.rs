//! The bpf(2) map commands used to read, update and delete map entries byte for byte.
//!
//! Invariant: every buffer handed to the kernel is sized from what the kernel itself
//! reported (`BPF_OBJ_GET_INFO_BY_FD`), so the safe wrappers cannot be made to read or
//! write out of bounds.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_UPDATE_ELEM: u32 = 2;
const BPF_MAP_DELETE_ELEM: u32 = 3;
const BPF_MAP_GET_NEXT_KEY: u32 = 4;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;

const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: u32 = 21;

/// The `BPF_MAP_*_ELEM` / `BPF_MAP_GET_NEXT_KEY` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value_or_next_key: u64,
    flags: u64,
}

/// The `info` member of `union bpf_attr` (`BPF_OBJ_GET_INFO_BY_FD`).
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// The leading fields of `struct bpf_map_info`; the kernel fills at most `info_len` bytes.
#[repr(C)]
#[derive(Default)]
struct MapInfoPrefix {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

/// Issues one bpf(2) command with `attr` as a prefix of `union bpf_attr`.
fn sys_bpf<T>(cmd: u32, attr: &mut T) -> io::Result<libc::c_long> {
    let size = size_of::<T>() as libc::c_uint;
    // SAFETY: `attr` is a live, initialised `repr(C)` prefix of `union bpf_attr` and its
    // exact size is passed, so the kernel reads and writes only inside it. Pointers inside
    // `attr` are set by the callers below to buffers of the sizes the kernel expects.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The shape of a map as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapShape {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
}

impl MapShape {
    /// Whether lookups return one value per possible CPU.
    pub fn per_cpu(&self) -> bool {
        matches!(
            self.map_type,
            BPF_MAP_TYPE_PERCPU_HASH
                | BPF_MAP_TYPE_PERCPU_ARRAY
                | BPF_MAP_TYPE_LRU_PERCPU_HASH
                | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
        )
    }

    /// Whether the map is an array, whose entries cannot be deleted.
    pub fn is_array(&self) -> bool {
        matches!(
            self.map_type,
            BPF_MAP_TYPE_ARRAY | BPF_MAP_TYPE_PERCPU_ARRAY
        )
    }
}

/// Asks the kernel for the type and sizes of the map behind `fd`.
pub(crate) fn map_shape(fd: BorrowedFd<'_>) -> io::Result<MapShape> {
    let mut info = MapInfoPrefix::default();
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: size_of::<MapInfoPrefix>() as u32,
        info: &mut info as *mut MapInfoPrefix as u64,
    };
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(MapShape {
        map_type: info.map_type,
        key_size: info.key_size,
        value_size: info.value_size,
        max_entries: info.max_entries,
    })
}

/// Byte-level access to one map, with buffer sizes taken from the kernel.
pub(crate) struct RawMap<'a> {
    fd: BorrowedFd<'a>,
    shape: MapShape,
    /// Bytes one lookup writes: `value_size`, or `round_up(value_size, 8) * possible CPUs`.
    value_len: usize,
}

impl<'a> RawMap<'a> {
    /// Describes the map behind `fd`; `possible_cpus` is only used for per-CPU maps.
    pub fn new(fd: BorrowedFd<'a>, possible_cpus: usize) -> io::Result<Self> {
        let shape = map_shape(fd)?;
        let value_len = if shape.per_cpu() {
            per_cpu_stride(shape.value_size) * possible_cpus.max(1)
        } else {
            shape.value_size as usize
        };
        Ok(Self {
            fd,
            shape,
            value_len,
        })
    }

    pub fn shape(&self) -> MapShape {
        self.shape
    }

    /// The key following `prev` (the first key when `None`), or `None` at the end.
    pub fn next_key(&self, prev: Option<&[u8]>) -> io::Result<Option<Vec<u8>>> {
        let key_size = self.shape.key_size as usize;
        if prev.is_some_and(|k| k.len() != key_size) {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut next = vec![0u8; key_size];
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: prev.map_or(0, |k| k.as_ptr() as u64),
            value_or_next_key: next.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) {
            Ok(_) => Ok(Some(next)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores `value` (all CPUs concatenated for per-CPU maps, as [`RawMap::lookup`]
    /// returns it) under `key`, creating or replacing the entry.
    pub fn update(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
        if key.len() != self.shape.key_size as usize || value.len() != self.value_len {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_ptr() as u64,
            ..Default::default()
        };
        sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
    }

    /// Deletes the entry under `key`; a key already gone is not an error.
    pub fn delete(&self, key: &[u8]) -> io::Result<()> {
        if key.len() != self.shape.key_size as usize {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_DELETE_ELEM, &mut attr) {
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) => Err(e),
            _ => Ok(()),
        }
    }

    /// The raw value stored under `key` (all CPUs concatenated for per-CPU maps), or
    /// `None` when the key is absent.
    pub fn lookup(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        if key.len() != self.shape.key_size as usize {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut value = vec![0u8; self.value_len];
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Bytes between two CPUs' values in a per-CPU lookup buffer.
pub(crate) fn per_cpu_stride(value_size: u32) -> usize {
    (value_size as usize).div_ceil(8) * 8
}

/// Map creation and updates, used only by tests to build maps to read back.
#[cfg(test)]
pub(crate) mod testing {
    use std::io;
    use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

    use super::sys_bpf;

    const BPF_MAP_CREATE: u32 = 0;

    #[repr(C)]
    #[derive(Default)]
    struct CreateAttr {
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        map_flags: u32,
    }

    pub(crate) fn map_create(
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> io::Result<OwnedFd> {
        let mut attr = CreateAttr {
            map_type,
            key_size,
            value_size,
            max_entries,
            map_flags: 0,
        };
        let fd = sys_bpf(BPF_MAP_CREATE, &mut attr)?;
        // SAFETY: BPF_MAP_CREATE returned a new file descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    /// `value` must hold the map's full value (all CPUs for per-CPU maps).
    pub(crate) fn map_update(fd: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> io::Result<()> {
        let possible = aya::util::nr_cpus().map_err(|(_, e)| e)?;
        super::RawMap::new(fd, possible)?.update(key, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_cpu_values_are_eight_byte_aligned() {
        assert_eq!(per_cpu_stride(1), 8);
        assert_eq!(per_cpu_stride(8), 8);
        assert_eq!(per_cpu_stride(12), 16);
        assert_eq!(per_cpu_stride(0), 0);
    }

    #[test]
    fn per_cpu_map_types_are_recognised() {
        let shape = |map_type| MapShape {
            map_type,
            key_size: 8,
            value_size: 8,
            max_entries: 1,
        };
        assert!(shape(BPF_MAP_TYPE_PERCPU_HASH).per_cpu());
        assert!(shape(BPF_MAP_TYPE_LRU_PERCPU_HASH).per_cpu());
        assert!(!shape(1).per_cpu());
        assert!(!shape(2).per_cpu());
    }
}
