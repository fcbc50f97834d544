//! Reading user maps byte for byte at exit into [`RawEntry`] lists for the renderer.
//!
//! Invariants: keys and values keep the kernel's sizes (`key_size`, `value_size`); a
//! per-CPU value is split into one `value_size` slice per possible CPU (the kernel lays
//! them out every `round_up(value_size, 8)` bytes); iteration is bounded by the map's
//! `max_entries`, so a map mutated while it is read cannot loop forever.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use aya::maps::{Map, MapData};
use aya::Ebpf;
use ebpfc_stdlib::meta::MapInfo;

use crate::error::{io_words, RuntimeError};
use crate::output::{MapDump, RawEntry};
use crate::sys::{per_cpu_stride, MapReader};

/// Reads every map of `infos` from the loaded object.
pub(crate) fn dump_all<'a>(
    ebpf: &Ebpf,
    infos: &'a [MapInfo],
) -> Result<Vec<MapDump<'a>>, RuntimeError> {
    infos.iter().map(|info| dump(ebpf, info)).collect()
}

fn dump<'a>(ebpf: &Ebpf, info: &'a MapInfo) -> Result<MapDump<'a>, RuntimeError> {
    let fail = |reason: String| RuntimeError::Map {
        map: info.name.clone(),
        reason,
    };
    let map = ebpf
        .map(&info.elf_name)
        .ok_or_else(|| fail(format!("the object has no map `{}`", info.elf_name)))?;
    let data = map_data(map).ok_or_else(|| fail("it is not a hash or array map".to_string()))?;
    let entries = read_entries(data.fd().as_fd()).map_err(|e| fail(io_words(&e)))?;
    Ok(MapDump { info, entries })
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

/// Every entry of the map behind `fd`, in the kernel's iteration order.
pub(crate) fn read_entries(fd: BorrowedFd<'_>) -> io::Result<Vec<RawEntry>> {
    let cpus = aya::util::nr_cpus().map_err(|(_, e)| e)?;
    let reader = MapReader::new(fd, cpus)?;
    let shape = reader.shape();
    let mut entries = Vec::new();
    let mut key = reader.next_key(None)?;
    let mut steps = 0usize;
    while let Some(current) = key {
        steps += 1;
        if steps > shape.max_entries as usize {
            break;
        }
        if let Some(raw) = reader.lookup(&current)? {
            let values = if shape.per_cpu() {
                split_per_cpu(&raw, shape.value_size)
            } else {
                vec![raw]
            };
            entries.push(RawEntry {
                key: current.clone(),
                values,
            });
        }
        key = reader.next_key(Some(&current))?;
    }
    Ok(entries)
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
}
