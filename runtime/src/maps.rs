//! Reading user maps byte for byte into [`RawEntry`] lists for the renderer, the map
//! actions events ask for (`clear`, `zero`), reading the lost-event counter and
//! writing the start-time entry.
//!
//! Invariants: keys and values keep the kernel's sizes (`key_size`, `value_size`); a
//! per-CPU value is split into one `value_size` slice per possible CPU (the kernel lays
//! them out every `round_up(value_size, 8)` bytes); iteration is bounded by the map's
//! `max_entries`, so a map mutated while it is read cannot loop forever.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use aya::maps::{Map, MapData};
use aya::Ebpf;
use ebpfc_stdlib::meta::{MapInfo, MapKind};

use crate::error::{io_words, RuntimeError};
use crate::output::{MapDump, RawEntry};
use crate::sys::{per_cpu_stride, RawMap};

/// Reads every map of `infos` from the loaded object.
pub(crate) fn dump_all<'a>(
    ebpf: &Ebpf,
    infos: &'a [MapInfo],
) -> Result<Vec<MapDump<'a>>, RuntimeError> {
    infos.iter().map(|info| dump(ebpf, info)).collect()
}

/// Reads the current contents of one user map. An empty scalar `count()` map reads as
/// one entry of 0, as bpftrace prints it (`@c: 0`, also after `clear` or `delete`).
pub(crate) fn dump<'a>(ebpf: &Ebpf, info: &'a MapInfo) -> Result<MapDump<'a>, RuntimeError> {
    let fd = user_map_fd(ebpf, &info.name, &info.elf_name)?;
    let mut entries = read_entries(fd).map_err(|e| map_error(&info.name, &e))?;
    if entries.is_empty() && info.kind == MapKind::Count && info.key.is_none() {
        entries.push(RawEntry {
            key: vec![0; 8],
            values: vec![vec![0; 8]],
        });
    }
    Ok(MapDump { info, entries })
}

/// Deletes every entry of a user map (`clear(@m)`).
pub(crate) fn clear(ebpf: &Ebpf, info: &MapInfo) -> Result<(), RuntimeError> {
    let fd = user_map_fd(ebpf, &info.name, &info.elf_name)?;
    clear_entries(fd).map_err(|e| map_error(&info.name, &e))
}

/// Sets every value of a user map to zero, on every CPU (`zero(@m)`). Min and max
/// values keep their "is set" flag, so they print as 0 as bpftrace's do.
pub(crate) fn zero(ebpf: &Ebpf, info: &MapInfo) -> Result<(), RuntimeError> {
    let fd = user_map_fd(ebpf, &info.name, &info.elf_name)?;
    let zeroed = if matches!(info.kind, MapKind::Min | MapKind::Max) {
        8
    } else {
        usize::MAX
    };
    zero_entries(fd, zeroed).map_err(|e| map_error(&info.name, &e))
}

/// The number of events dropped so far: the sum over CPUs of the one u64 entry of the
/// per-CPU array `elf_name`.
pub(crate) fn lost_events(ebpf: &Ebpf, elf_name: &str) -> Result<u64, RuntimeError> {
    let fd = user_map_fd(ebpf, elf_name, elf_name)?;
    let entries = read_entries(fd).map_err(|e| map_error(elf_name, &e))?;
    let total = entries
        .iter()
        .flat_map(|e| &e.values)
        .map(|v| first_u64(v))
        .fold(0u64, u64::wrapping_add);
    Ok(total)
}

/// Sums over CPUs of every entry of the per-CPU u64 array `elf_name`, by index.
pub(crate) fn counters(ebpf: &Ebpf, elf_name: &str) -> Result<Vec<(u32, u64)>, RuntimeError> {
    let fd = user_map_fd(ebpf, elf_name, elf_name)?;
    let entries = read_entries(fd).map_err(|e| map_error(elf_name, &e))?;
    let totals = entries.iter().map(|e| {
        let index = e
            .key
            .get(..4)
            .and_then(|k| k.try_into().ok())
            .map_or(0, u32::from_le_bytes);
        let total = e
            .values
            .iter()
            .map(|v| first_u64(v))
            .fold(0u64, u64::wrapping_add);
        (index, total)
    });
    Ok(totals.collect())
}

/// Stores `ns` as the u64 at the start of the value under key 0 of the array
/// `elf_name` (on every CPU of a per-CPU array): the session's start time.
pub(crate) fn write_start_time(ebpf: &Ebpf, elf_name: &str, ns: u64) -> Result<(), RuntimeError> {
    let fd = user_map_fd(ebpf, elf_name, elf_name)?;
    store_first_u64(fd, ns).map_err(|e| map_error(elf_name, &e))
}

/// Writes `value` at the start of every CPU's value under the all-zero key.
pub(crate) fn store_first_u64(fd: BorrowedFd<'_>, value: u64) -> io::Result<()> {
    let map = open_raw(fd)?;
    let shape = map.shape();
    let (stride, copies) = if shape.per_cpu() {
        let cpus = aya::util::nr_cpus().map_err(|(_, e)| e)?;
        (per_cpu_stride(shape.value_size), cpus)
    } else {
        (shape.value_size as usize, 1)
    };
    let mut raw = vec![0u8; stride * copies];
    for chunk in raw.chunks_mut(stride.max(1)) {
        let len = chunk.len().min(8).min(shape.value_size as usize);
        chunk[..len].copy_from_slice(&value.to_le_bytes()[..len]);
    }
    map.update(&vec![0u8; shape.key_size as usize], &raw)
}

/// The little-endian u64 at the start of `bytes` (0 when it is shorter).
fn first_u64(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The fd of the map `elf_name`, reported as map `name` when missing.
fn user_map_fd<'e>(
    ebpf: &'e Ebpf,
    name: &str,
    elf_name: &str,
) -> Result<BorrowedFd<'e>, RuntimeError> {
    let fail = |reason: String| RuntimeError::Map {
        map: name.to_string(),
        reason,
    };
    let map = ebpf
        .map(elf_name)
        .ok_or_else(|| fail(format!("the object has no map `{elf_name}`")))?;
    let data = map_data(map).ok_or_else(|| fail("it is not a hash or array map".to_string()))?;
    Ok(data.fd().as_fd())
}

fn map_error(name: &str, err: &io::Error) -> RuntimeError {
    RuntimeError::Map {
        map: name.to_string(),
        reason: io_words(err),
    }
}

/// The kernel map behind the aya map kinds user maps are made of.
fn map_data(map: &Map) -> Option<&MapData> {
    match map {
        Map::HashMap(data)
        | Map::LruHashMap(data)
        | Map::PerCpuHashMap(data)
        | Map::PerCpuLruHashMap(data)
        | Map::Array(data)
        | Map::PerCpuArray(data) => Some(data),
        _ => None,
    }
}

/// The map behind `fd`, sized for this machine's possible CPUs.
fn open_raw(fd: BorrowedFd<'_>) -> io::Result<RawMap<'_>> {
    let cpus = aya::util::nr_cpus().map_err(|(_, e)| e)?;
    RawMap::new(fd, cpus)
}

/// Every key of `map`, in the kernel's iteration order, at most `max_entries` of them.
fn keys(map: &RawMap<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
    let mut key = map.next_key(None)?;
    while let Some(current) = key {
        if keys.len() >= map.shape().max_entries as usize {
            break;
        }
        key = map.next_key(Some(&current))?;
        keys.push(current);
    }
    Ok(keys)
}

/// Every entry of the map behind `fd`, in the kernel's iteration order.
pub(crate) fn read_entries(fd: BorrowedFd<'_>) -> io::Result<Vec<RawEntry>> {
    let map = open_raw(fd)?;
    let shape = map.shape();
    let mut entries = Vec::new();
    for key in keys(&map)? {
        if let Some(raw) = map.lookup(&key)? {
            let values = if shape.per_cpu() {
                split_per_cpu(&raw, shape.value_size)
            } else {
                vec![raw]
            };
            entries.push(RawEntry { key, values });
        }
    }
    Ok(entries)
}

/// Deletes every entry of the map behind `fd`; array entries, which cannot be deleted,
/// are zeroed instead.
pub(crate) fn clear_entries(fd: BorrowedFd<'_>) -> io::Result<()> {
    let map = open_raw(fd)?;
    if map.shape().is_array() {
        return zero_entries(fd, usize::MAX);
    }
    for key in keys(&map)? {
        map.delete(&key)?;
    }
    Ok(())
}

/// Zeroes the first `len` bytes of every value (of every CPU's value in per-CPU maps)
/// of the map behind `fd`.
pub(crate) fn zero_entries(fd: BorrowedFd<'_>, len: usize) -> io::Result<()> {
    let map = open_raw(fd)?;
    let shape = map.shape();
    let stride = if shape.per_cpu() {
        per_cpu_stride(shape.value_size)
    } else {
        shape.value_size as usize
    };
    let len = len.min(shape.value_size as usize);
    for key in keys(&map)? {
        if let Some(mut raw) = map.lookup(&key)? {
            for value in raw.chunks_mut(stride.max(1)) {
                let end = len.min(value.len());
                value[..end].fill(0);
            }
            map.update(&key, &raw)?;
        }
    }
    Ok(())
}

/// Splits a per-CPU lookup buffer into one `value_size` slice per CPU.
pub(crate) fn split_per_cpu(raw: &[u8], value_size: u32) -> Vec<Vec<u8>> {
    let stride = per_cpu_stride(value_size);
    if stride == 0 {
        return Vec::new();
    }
    raw.chunks(stride)
        .map(|chunk| chunk[..chunk.len().min(value_size as usize)].to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;
    use crate::sys::testing::{map_create, map_update};

    const BPF_MAP_TYPE_HASH: u32 = 1;
    const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
    const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;

    #[test]
    fn per_cpu_buffers_split_on_eight_byte_strides() {
        let raw = [1, 2, 3, 0, 0, 0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0];
        assert_eq!(split_per_cpu(&raw, 3), vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(split_per_cpu(&[9; 16], 8), vec![vec![9; 8], vec![9; 8]]);
    }

    /// Whether bpf(2) works here; without it the kernel tests skip (or fail when
    /// `EBPFC_REQUIRE_KERNEL=1`).
    fn kernel_available(test: &str) -> bool {
        let ok = map_create(BPF_MAP_TYPE_HASH, 8, 8, 1).is_ok();
        if !ok {
            assert!(
                std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() != Ok("1"),
                "{test}: BPF is unavailable but EBPFC_REQUIRE_KERNEL=1"
            );
            // Written to the stderr handle so the test harness does not capture it.
            let notice = format!("!!! SKIPPED {test}: BPF is unavailable (not root?) !!!\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
        }
        ok
    }

    #[test]
    fn reads_every_entry_of_a_hash_map_with_odd_sizes() {
        if !kernel_available("reads_every_entry_of_a_hash_map_with_odd_sizes") {
            return;
        }
        let fd = map_create(BPF_MAP_TYPE_HASH, 3, 5, 8).unwrap();
        map_update(fd.as_fd(), b"abc", b"12345").unwrap();
        map_update(fd.as_fd(), b"xyz", b"67890").unwrap();
        let mut entries = read_entries(fd.as_fd()).unwrap();
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(
            entries,
            vec![
                RawEntry {
                    key: b"abc".to_vec(),
                    values: vec![b"12345".to_vec()]
                },
                RawEntry {
                    key: b"xyz".to_vec(),
                    values: vec![b"67890".to_vec()]
                },
            ]
        );
    }

    #[test]
    fn reads_one_value_per_possible_cpu_from_per_cpu_maps() {
        if !kernel_available("reads_one_value_per_possible_cpu_from_per_cpu_maps") {
            return;
        }
        let cpus = aya::util::nr_cpus().unwrap();
        let fd = map_create(BPF_MAP_TYPE_PERCPU_HASH, 8, 4, 4).unwrap();
        let value: Vec<u8> = (0..cpus as u32)
            .flat_map(|c| [c + 1, 0])
            .flat_map(u32::to_le_bytes)
            .collect();
        map_update(fd.as_fd(), &7u64.to_le_bytes(), &value).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        let expected: Vec<Vec<u8>> = (0..cpus as u32)
            .map(|c| (c + 1).to_le_bytes().to_vec())
            .collect();
        assert_eq!(
            entries,
            vec![RawEntry {
                key: 7u64.to_le_bytes().to_vec(),
                values: expected
            }]
        );
    }

    #[test]
    fn empty_maps_have_no_entries() {
        if !kernel_available("empty_maps_have_no_entries") {
            return;
        }
        let fd = map_create(BPF_MAP_TYPE_HASH, 8, 8, 4).unwrap();
        assert!(read_entries(fd.as_fd()).unwrap().is_empty());
    }

    /// A per-CPU value of `cpus` u64 pairs `(a + cpu, b)`.
    fn pairs(cpus: usize, a: u64, b: u64) -> Vec<u8> {
        (0..cpus as u64)
            .flat_map(|c| [a + c, b])
            .flat_map(u64::to_le_bytes)
            .collect()
    }

    #[test]
    fn clearing_deletes_every_entry() {
        if !kernel_available("clearing_deletes_every_entry") {
            return;
        }
        let fd = map_create(BPF_MAP_TYPE_HASH, 8, 8, 64).unwrap();
        for k in 0u64..40 {
            map_update(fd.as_fd(), &k.to_le_bytes(), &k.to_le_bytes()).unwrap();
        }
        clear_entries(fd.as_fd()).unwrap();
        assert!(read_entries(fd.as_fd()).unwrap().is_empty());
    }

    #[test]
    fn zeroing_covers_every_cpu_and_can_keep_a_suffix() {
        if !kernel_available("zeroing_covers_every_cpu_and_can_keep_a_suffix") {
            return;
        }
        let cpus = aya::util::nr_cpus().unwrap();
        let fd = map_create(BPF_MAP_TYPE_PERCPU_HASH, 8, 16, 4).unwrap();
        map_update(fd.as_fd(), &1u64.to_le_bytes(), &pairs(cpus, 5, 1)).unwrap();
        zero_entries(fd.as_fd(), 8).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        let expected: Vec<Vec<u8>> = split_per_cpu(&pairs(cpus, 0, 1), 16)
            .into_iter()
            .map(|mut v| {
                v[..8].fill(0);
                v
            })
            .collect();
        assert_eq!(entries[0].values, expected);
        zero_entries(fd.as_fd(), usize::MAX).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        assert!(entries[0].values.iter().all(|v| v == &vec![0; 16]));
    }

    #[test]
    fn the_start_time_fills_key_zero_on_every_cpu() {
        if !kernel_available("the_start_time_fills_key_zero_on_every_cpu") {
            return;
        }
        const BPF_MAP_TYPE_ARRAY: u32 = 2;
        let fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1).unwrap();
        store_first_u64(fd.as_fd(), 123_456).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        assert_eq!(entries[0].key, 0u32.to_le_bytes());
        assert_eq!(first_u64(&entries[0].values[0]), 123_456);
        let fd = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1).unwrap();
        store_first_u64(fd.as_fd(), 77).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        assert!(entries[0].values.iter().all(|v| first_u64(v) == 77));
    }

    #[test]
    fn clearing_an_array_zeroes_it() {
        if !kernel_available("clearing_an_array_zeroes_it") {
            return;
        }
        let cpus = aya::util::nr_cpus().unwrap();
        let fd = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1).unwrap();
        let value: Vec<u8> = (0..cpus as u64)
            .flat_map(|c| (c + 3).to_le_bytes())
            .collect();
        map_update(fd.as_fd(), &0u32.to_le_bytes(), &value).unwrap();
        assert_eq!(
            first_u64(&read_entries(fd.as_fd()).unwrap()[0].values[0]),
            3
        );
        clear_entries(fd.as_fd()).unwrap();
        let entries = read_entries(fd.as_fd()).unwrap();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].values.iter().all(|v| first_u64(v) == 0));
    }
}
