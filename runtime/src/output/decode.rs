//! Decoding of raw map entries and event fields: typed values from little-endian bytes,
//! per-CPU values combined as `meta::MapKind` documents, and hist buckets grouped by key.
//! Stacks, symbols and `strftime()` times are resolved while decoding, through the
//! caller's [`Symbols`].

use std::collections::BTreeMap;

use ebpfc_stdlib::meta::{MapInfo, MapKind, Ty};

use super::cvalue;
use super::hist;
use super::resolve;
use super::symbols::Symbols;
use super::RawEntry;

/// A typed value read from a key, a map value or an event record.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Datum {
    Signed(i64),
    Unsigned(u64),
    /// The bytes of a string, up to (not including) its NUL.
    Str(Vec<u8>),
    Tuple(Vec<Datum>),
    /// A record's fields with their names.
    Record(Vec<(String, Datum)>),
    /// The data of a `buf()` value, printed escaped (`resolve::hex_buffer`).
    Buf(Vec<u8>),
    /// The frames of a stack; `None` when no stack was taken (printed as nothing).
    Stack(Option<resolve::Frames>),
    /// A C struct's members with their names.
    Struct(Vec<(String, Datum)>),
    /// A C array's elements.
    Array(Vec<Datum>),
}

/// A map value with all CPUs combined.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// A `Value` map's value, or a count, sum, min or max.
    Plain(Datum),
    /// An `avg` or `stats` aggregation.
    Stats { count: i64, total: i64 },
    /// Hist or lhist bucket counts, indexed by bucket.
    Buckets(Vec<u64>),
}

/// One decoded map entry; `key` holds the user key bytes (empty for scalar maps).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub key: Vec<u8>,
    pub value: Value,
}

/// How integers are read: as map keys print them or as their type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IntRule {
    /// 8-byte integers are signed regardless of their type; smaller ones follow it.
    Key,
    /// Signedness follows the type.
    Typed,
}

/// Reads `size` bytes at `offset` as a little-endian unsigned integer; bytes past the end
/// of `bytes` read as zero.
pub(super) fn read_u64(bytes: &[u8], offset: usize, size: usize) -> u64 {
    (0..size.min(8)).fold(0u64, |acc, i| {
        let byte = bytes.get(offset + i).copied().unwrap_or(0);
        acc | (u64::from(byte) << (8 * i))
    })
}

/// Reads an 8-byte little-endian signed integer at `offset`.
pub(super) fn read_i64(bytes: &[u8], offset: usize) -> i64 {
    read_u64(bytes, offset, 8) as i64
}

/// Sign-extends the low `size` bytes of `raw`.
fn sign_extend(raw: u64, size: usize) -> i64 {
    match size {
        1 => i64::from(raw as u8 as i8),
        2 => i64::from(raw as u16 as i16),
        4 => i64::from(raw as u32 as i32),
        _ => raw as i64,
    }
}

/// The bytes of a NUL-terminated string stored in a buffer of `size` bytes at `offset`.
pub(super) fn read_cstr(bytes: &[u8], offset: usize, size: usize) -> Vec<u8> {
    let start = offset.min(bytes.len());
    let end = offset.saturating_add(size).min(bytes.len());
    let buf = &bytes[start..end];
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf[..len].to_vec()
}

impl Datum {
    /// Decodes a value of type `ty` stored at `offset` in `bytes`; `inet` and symbol
    /// values become their text.
    pub(super) fn decode(
        ty: &Ty,
        bytes: &[u8],
        offset: usize,
        rule: IntRule,
        syms: &dyn Symbols,
    ) -> Datum {
        match ty {
            Ty::Int { size, signed } => {
                let size = usize::from(*size);
                let raw = read_u64(bytes, offset, size);
                if *signed || (rule == IntRule::Key && size == 8) {
                    Datum::Signed(sign_extend(raw, size))
                } else {
                    Datum::Unsigned(raw)
                }
            }
            Ty::Str { size } => Datum::Str(read_cstr(bytes, offset, *size as usize)),
            Ty::Tuple { fields, names, .. } => {
                let items = fields
                    .iter()
                    .map(|f| Datum::decode(&f.ty, bytes, offset + f.offset as usize, rule, syms));
                if names.is_empty() {
                    Datum::Tuple(items.collect())
                } else {
                    Datum::Record(names.iter().cloned().zip(items).collect())
                }
            }
            Ty::Inet => Datum::Str(resolve::inet(bytes, offset)),
            Ty::Buf { size } => Datum::Buf(resolve::buf(bytes, offset, *size)),
            Ty::Stack { user, frames, mode } => {
                Datum::Stack(resolve::stack((*user, *frames, *mode), bytes, offset, syms))
            }
            Ty::Sym { user } => Datum::Str(resolve::sym(*user, bytes, offset, syms)),
            Ty::Username => Datum::Str(resolve::username(read_u64(bytes, offset, 8))),
            Ty::Errno => Datum::Str(resolve::errno_text(read_i64(bytes, offset))),
            Ty::Mac => Datum::Str(resolve::mac(bytes, offset)),
            Ty::CgroupPath { filter } => {
                let id = read_u64(bytes, offset, 8);
                Datum::Str(syms.cgroup_path(*filter, id).unwrap_or_default())
            }
            Ty::Time { format } => {
                let ns = read_u64(bytes, offset, 8);
                let text = syms.time(*format, ns);
                Datum::Str(text.unwrap_or_else(|| ns.to_string().into_bytes()))
            }
            Ty::Struct { members, .. } => cvalue::members(members, bytes, offset, rule, syms),
            Ty::Array { elem, len, stride } => {
                let at = |i: u32| offset + (i * stride) as usize;
                let items = (0..*len).map(|i| Datum::decode(elem, bytes, at(i), rule, syms));
                Datum::Array(items.collect())
            }
        }
    }

    /// The value as a 128-bit integer, for ordering; `None` for anything but integers.
    pub(super) fn as_i128(&self) -> Option<i128> {
        match self {
            Datum::Signed(v) => Some(i128::from(*v)),
            Datum::Unsigned(v) => Some(i128::from(*v)),
            Datum::Str(_)
            | Datum::Tuple(_)
            | Datum::Record(_)
            | Datum::Buf(_)
            | Datum::Stack(_)
            | Datum::Struct(_)
            | Datum::Array(_) => None,
        }
    }
}

/// `v / div` truncated toward zero (`div` 0 counts as 1).
pub(super) fn divide_i64(v: i64, div: u64) -> i64 {
    (i128::from(v) / i128::from(div.max(1))) as i64
}

impl Datum {
    /// The value `print(@m, top, div)` shows: integers divided by `div`, truncated
    /// toward zero; anything else unchanged.
    pub(super) fn divided(&self, div: u64) -> Datum {
        match self {
            Datum::Signed(v) => Datum::Signed(divide_i64(*v, div)),
            Datum::Unsigned(v) => Datum::Unsigned(v / div.max(1)),
            Datum::Str(_)
            | Datum::Tuple(_)
            | Datum::Record(_)
            | Datum::Buf(_)
            | Datum::Stack(_)
            | Datum::Struct(_)
            | Datum::Array(_) => self.clone(),
        }
    }
}

impl Value {
    /// The integer `avg` prints: total / count truncated toward zero, 0 when empty.
    pub(super) fn average(count: i64, total: i64) -> i64 {
        if count == 0 {
            0
        } else {
            total.wrapping_div(count)
        }
    }
}

/// Decodes and combines every entry of a map (unsorted).
pub(super) fn entries(info: &MapInfo, raw: &[RawEntry], syms: &dyn Symbols) -> Vec<Entry> {
    match &info.kind {
        MapKind::Hist { .. } | MapKind::Lhist { .. } => bucket_entries(info, raw),
        kind => raw
            .iter()
            .filter_map(|e| {
                let value = combine(info, kind, &e.values, syms)?;
                Some(Entry {
                    key: user_key(info, &e.key).to_vec(),
                    value,
                })
            })
            .collect(),
    }
}

/// The user key part of a BPF key.
fn user_key<'k>(info: &MapInfo, key: &'k [u8]) -> &'k [u8] {
    if info.key.is_none() {
        return &[];
    }
    &key[..(info.key_size as usize).min(key.len())]
}

/// Combines the per-CPU values of one non-hist entry; `None` when a min/max was never set
/// (or a max is negative, or a min is `i64::MAX`).
fn combine(
    info: &MapInfo,
    kind: &MapKind,
    values: &[Vec<u8>],
    syms: &dyn Symbols,
) -> Option<Value> {
    let value = match kind {
        MapKind::Value => {
            let first = values.first().map_or(&[][..], Vec::as_slice);
            Value::Plain(Datum::decode(&info.value, first, 0, IntRule::Typed, syms))
        }
        MapKind::Count => Value::Plain(Datum::Unsigned(sum_u64(values, 0))),
        MapKind::Sum => Value::Plain(Datum::Signed(sum_u64(values, 0) as i64)),
        // bpftrace 0.17 treats a minimum of i64::MAX (its "unset") as no entry.
        MapKind::Min => Value::Plain(Datum::Signed(
            extremum(values, i64::min).filter(|min| *min != i64::MAX)?,
        )),
        // bpftrace 0.17 treats a negative maximum as no entry at all.
        MapKind::Max => Value::Plain(Datum::Signed(
            extremum(values, i64::max).filter(|max| *max >= 0)?,
        )),
        MapKind::Avg | MapKind::Stats => Value::Stats {
            total: sum_u64(values, 0) as i64,
            count: sum_u64(values, 8) as i64,
        },
        MapKind::Hist { .. } | MapKind::Lhist { .. } => return None,
    };
    Some(value)
}

/// The wrapping sum over CPUs of the u64 at `offset`.
fn sum_u64(values: &[Vec<u8>], offset: usize) -> u64 {
    values
        .iter()
        .fold(0u64, |acc, v| acc.wrapping_add(read_u64(v, offset, 8)))
}

/// Combines the values of the CPUs whose "is set" flag (u64 at 8) is non-zero.
fn extremum(values: &[Vec<u8>], pick: fn(i64, i64) -> i64) -> Option<i64> {
    values
        .iter()
        .filter(|v| read_u64(v, 8, 8) != 0)
        .map(|v| read_i64(v, 0))
        .reduce(pick)
}

/// Groups hist/lhist entries by user key into bucket vectors; out-of-range buckets are
/// dropped.
fn bucket_entries(info: &MapInfo, raw: &[RawEntry]) -> Vec<Entry> {
    let len = hist::bucket_count(&info.kind);
    let index_at = (info.key_size as usize).next_multiple_of(8);
    let mut groups: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
    for e in raw {
        let key = user_key(info, &e.key).to_vec();
        let buckets = groups.entry(key).or_insert_with(|| vec![0; len]);
        let index = read_u64(&e.key, index_at, 8);
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
            *slot = slot.wrapping_add(sum_u64(&e.values, 0));
        }
    }
    groups
        .into_iter()
        .map(|(key, buckets)| Entry {
            key,
            value: Value::Buckets(buckets),
        })
        .collect()
}
