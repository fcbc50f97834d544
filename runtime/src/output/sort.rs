//! The order in which a map's entries are printed: integer aggregations by value,
//! `avg`/`stats` by average, hists by total count, everything else by key. Ties fall
//! back to the raw key bytes so the output is deterministic. `strftime()` times are
//! ordered by time; key fields bpftrace does not sort (`inet`, `buf`, stacks, symbols)
//! are ordered by their raw bytes.

use std::cmp::Ordering;

use ebpfc_stdlib::meta::{MapInfo, MapKind, Ty};

use super::decode::{read_cstr, read_u64, Entry, Value};

/// Sorts `entries` in print order.
pub(super) fn sort_entries(info: &MapInfo, entries: &mut [Entry]) {
    if entries.iter().all(|e| rank(&e.value).is_some()) {
        entries.sort_by(|a, b| {
            rank(&a.value)
                .cmp(&rank(&b.value))
                .then_with(|| a.key.cmp(&b.key))
        });
    } else {
        entries.sort_by(|a, b| by_key(info.key.as_ref(), &a.key, &b.key));
    }
}

/// Keeps only the last `top` entries (all when `top` is 0 or covers them). `stats` maps
/// keep every entry, as bpftrace 0.17 applies `top` to every kind but `stats`.
pub(super) fn keep_top(info: &MapInfo, entries: &mut Vec<Entry>, top: u64) {
    let top = usize::try_from(top).unwrap_or(usize::MAX);
    if top == 0 || info.kind == MapKind::Stats || entries.len() <= top {
        return;
    }
    entries.drain(..entries.len() - top);
}

/// The numeric rank of a value, or `None` when the map is ordered by key.
fn rank(value: &Value) -> Option<i128> {
    match value {
        Value::Plain(datum) => datum.as_i128(),
        Value::Stats { count, total } => Some(i128::from(Value::average(*count, *total))),
        Value::Buckets(buckets) => Some(buckets.iter().map(|&c| i128::from(c)).sum()),
    }
}

/// Orders two user keys field by field (integers as unsigned numbers of their size,
/// strings byte-wise up to the NUL), then by raw bytes.
fn by_key(ty: Option<&Ty>, a: &[u8], b: &[u8]) -> Ordering {
    ty.map_or(Ordering::Equal, |ty| field_order(ty, a, b, 0))
        .then_with(|| a.cmp(b))
}

fn field_order(ty: &Ty, a: &[u8], b: &[u8], offset: usize) -> Ordering {
    match ty {
        Ty::Int { size, .. } => {
            let size = usize::from(*size);
            read_u64(a, offset, size).cmp(&read_u64(b, offset, size))
        }
        Ty::Time { .. } | Ty::Username | Ty::Errno | Ty::CgroupPath { .. } => {
            read_u64(a, offset, 8).cmp(&read_u64(b, offset, 8))
        }
        Ty::Str { size } => {
            let size = *size as usize;
            read_cstr(a, offset, size).cmp(&read_cstr(b, offset, size))
        }
        Ty::Tuple { fields, .. } => fields.iter().fold(Ordering::Equal, |acc, f| {
            acc.then_with(|| field_order(&f.ty, a, b, offset + f.offset as usize))
        }),
        Ty::Inet
        | Ty::Buf { .. }
        | Ty::Stack { .. }
        | Ty::Sym { .. }
        | Ty::Mac
        | Ty::Struct { .. }
        | Ty::Array { .. } => {
            let size = ty.size() as usize;
            field_bytes(a, offset, size).cmp(field_bytes(b, offset, size))
        }
    }
}

/// The `size` bytes at `offset`, or as many of them as there are.
fn field_bytes(bytes: &[u8], offset: usize, size: usize) -> &[u8] {
    let start = offset.min(bytes.len());
    &bytes[start..offset.saturating_add(size).min(bytes.len())]
}
