//! Tests of map and printf rendering.
//!
//! The expected outputs in `bpftrace/` are verbatim stdout of bpftrace 0.17 (minus its
//! `Attaching` line) for the program quoted above each test input; the inputs are the
//! raw entries those programs leave in ebpfc's map layouts (`meta::MapKind`), spread
//! over two CPUs. JSON captures keep bpftrace's blank lines; ebpfc prints none.
//! Stacks and symbols are answered by [`FakeSymbols`], filled with the frames and
//! symbols bpftrace printed.

mod maps;
mod print;
mod printf;
mod stacks;
mod structs;
mod units;
mod values;

use std::collections::{BTreeMap, HashMap};

use ebpfc_stdlib::meta::{Field, Format, MapInfo, MapKind, Ty, EVENT_PRINTF};

use super::{
    render_maps, render_printf, MapDump, NoSymbols, OutputFormat, RawEntry, Symbol, Symbols,
};

/// A map and the raw entries read from it.
type Dump = (MapInfo, Vec<RawEntry>);

/// The expected text and JSON outputs captured from bpftrace for a fixture name.
macro_rules! captured {
    ($name:literal) => {
        (
            include_str!(concat!("bpftrace/", $name, ".text")),
            include_str!(concat!("bpftrace/", $name, ".json")),
        )
    };
}
use captured;

fn int(size: u8, signed: bool) -> Ty {
    Ty::Int { size, signed }
}

fn i64_ty() -> Ty {
    int(8, true)
}

/// bpftrace's default string size.
fn str64() -> Ty {
    Ty::Str { size: 64 }
}

/// A tuple with each integer aligned to its size, strings unaligned and anything else
/// aligned to 8, padded to a multiple of 8.
fn tuple(types: Vec<Ty>) -> Ty {
    let mut offset = 0u32;
    let mut fields = Vec::new();
    for ty in types {
        let align = match ty {
            Ty::Int { size, .. } => u32::from(size),
            Ty::Str { .. } => 1,
            _ => 8,
        };
        offset = offset.next_multiple_of(align);
        let size = ty.size();
        fields.push(Field { offset, ty });
        offset += size;
    }
    Ty::Tuple {
        fields,
        size: offset.next_multiple_of(8),
        names: Vec::new(),
    }
}

/// An aggregation map (per CPU, i64 values).
fn agg(name: &str, kind: MapKind, key: Option<Ty>) -> MapInfo {
    MapInfo {
        name: name.to_string(),
        elf_name: format!("m_{}", name.trim_start_matches('@')),
        key_size: key.as_ref().map_or(0, Ty::size),
        key,
        kind,
        value: i64_ty(),
        per_cpu: true,
    }
}

/// A `Value` map (not per CPU).
fn plain(name: &str, key: Option<Ty>, value: Ty) -> MapInfo {
    MapInfo {
        value,
        per_cpu: false,
        ..agg(name, MapKind::Value, key)
    }
}

fn lhist(min: i64, max: i64, step: i64) -> MapKind {
    MapKind::Lhist { min, max, step }
}

/// `v` as `size` little-endian bytes.
fn le(v: i64, size: usize) -> Vec<u8> {
    v.to_le_bytes()[..size].to_vec()
}

fn i(v: i64) -> Vec<u8> {
    le(v, 8)
}

/// Two i64 fields: value and flag (min/max) or total and count (avg/stats).
fn pair(a: i64, b: i64) -> Vec<u8> {
    [i(a), i(b)].concat()
}

/// A string in a NUL-padded buffer of `size` bytes.
fn s(text: &str, size: usize) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.resize(size, 0);
    bytes
}

/// The BPF key of a scalar map.
fn scalar() -> Vec<u8> {
    vec![0; 8]
}

/// A hist BPF key: the user key, padding to 8, then the bucket index.
fn bucket_key(user: &[u8], bucket: i64) -> Vec<u8> {
    let mut key = user.to_vec();
    key.resize(user.len().next_multiple_of(8), 0);
    key.extend(i(bucket));
    key
}

fn entry(key: Vec<u8>, values: Vec<Vec<u8>>) -> RawEntry {
    RawEntry { key, values }
}

/// One per-CPU hist entry per `(bucket, cpu0, cpu1)`.
fn buckets(user: &[u8], counts: &[(i64, i64, i64)]) -> Vec<RawEntry> {
    counts
        .iter()
        .map(|&(b, c0, c1)| entry(bucket_key(user, b), vec![i(c0), i(c1)]))
        .collect()
}

fn render(format: OutputFormat, dumps: &[Dump], syms: &dyn Symbols) -> String {
    let maps: Vec<MapDump<'_>> = dumps
        .iter()
        .map(|(info, entries)| MapDump {
            info,
            entries: entries.clone(),
        })
        .collect();
    render_maps(format, &maps, syms)
}

/// Asserts both renderings of `dumps` against the captured outputs.
fn check(dumps: &[Dump], captured: (&str, &str)) {
    check_with(dumps, captured, &NoSymbols);
}

/// [`check`] with stacks and symbols answered by `syms`.
fn check_with(dumps: &[Dump], (text, json): (&str, &str), syms: &dyn Symbols) {
    assert_eq!(render(OutputFormat::Text, dumps, syms), text);
    assert_eq!(render(OutputFormat::Json, dumps, syms), json);
}

/// The file every fake user symbol is in.
const LIBC: &str = "/usr/lib/x86_64-linux-gnu/libc.so.6";

/// Stacks and symbols from fixed tables: a symbol holds every address from its start up
/// to the next symbol's start (user symbols: for `size` bytes).
#[derive(Default)]
struct FakeSymbols {
    stacks: HashMap<i64, Vec<u64>>,
    kernel: BTreeMap<u64, &'static str>,
    /// Per pid: start address to (size, name).
    user: HashMap<u32, BTreeMap<u64, (u64, &'static str)>>,
}

impl Symbols for FakeSymbols {
    fn stack(&self, id: i64) -> Option<Vec<u64>> {
        self.stacks.get(&id).cloned()
    }

    fn kernel_symbol(&self, addr: u64) -> Option<Symbol> {
        let (start, name) = self.kernel.range(..=addr).next_back()?;
        Some(Symbol {
            name: name.to_string(),
            offset: addr - start,
            module: None,
        })
    }

    fn user_symbols(&self, pid: u32, addrs: &[u64]) -> Vec<Option<Symbol>> {
        let table = self.user.get(&pid);
        addrs
            .iter()
            .map(|&addr| {
                let (start, (size, name)) = table?.range(..=addr).next_back()?;
                (addr - start < *size).then(|| Symbol {
                    name: name.to_string(),
                    offset: addr - start,
                    module: Some(LIBC.to_string()),
                })
            })
            .collect()
    }
}

/// `bytes` zero-padded to `size`.
fn padded(mut bytes: Vec<u8>, size: u32) -> Vec<u8> {
    bytes.resize(size as usize, 0);
    bytes
}

/// A printf event: the format and a record of the event id then 8-aligned arguments.
fn event(template: &str, args: &[(Ty, Vec<u8>)]) -> (Format, Vec<u8>) {
    let mut record = EVENT_PRINTF.to_le_bytes().to_vec();
    let mut fields = Vec::new();
    for (ty, bytes) in args {
        fields.push(Field {
            offset: record.len() as u32,
            ty: ty.clone(),
        });
        record.extend(padded(bytes.clone(), ty.size().next_multiple_of(8)));
    }
    let format = Format {
        template: template.to_string(),
        args: fields,
        system: false,
        stderr_prefix: None,
        value: false,
        cat: false,
    };
    (format, record)
}

/// The text a printf event of `template` with `args` prints.
fn printf_text(template: &str, args: &[(Ty, Vec<u8>)], syms: &dyn Symbols) -> String {
    let (fmt, record) = event(template, args);
    render_printf(OutputFormat::Text, &fmt, &record, syms)
}
