//! A map's signature: what the program does with it (kind, key and value types), and
//! the BPF map definition and runtime description that follow from it.

use crate::ctypes::TypeEnv;
use crate::ir::{MapDef, MapId};
use crate::types::Type;
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta::{self, MapKind};

const BPF_MAP_TYPE_LRU_HASH: u32 = 9;
const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
/// Default number of keys a map can hold.
pub const MAX_KEYS: u32 = 4096;

/// What the program does with one map, learned from its assignments.
#[derive(Debug, Clone)]
pub struct MapSig {
    pub name: String,
    pub id: MapId,
    pub kind: MapKind,
    /// The stored key type (integers widened), or `None` for a scalar map.
    pub key: Option<Type>,
    /// Stored value type of `MapKind::Value` maps.
    pub value: Type,
    /// Where the signature was first learned.
    pub span: Span,
    /// Keys the map holds (`max_map_keys`, or its declaration's size).
    pub max_entries: u32,
    /// Declared `lruhash`: the oldest entries make room for new ones.
    pub lru: bool,
}

impl MapSig {
    /// Size of the user key part.
    pub fn user_key_size(&self) -> u32 {
        self.key.as_ref().map_or(0, Type::size)
    }

    pub(super) fn is_bucketed(&self) -> bool {
        matches!(self.kind, MapKind::Hist { .. } | MapKind::Lhist { .. })
    }

    /// Size of the whole BPF key (a u64 zero for scalar maps; bucket index appended).
    pub fn bpf_key_size(&self) -> u32 {
        let user = self.user_key_size().div_ceil(8) * 8;
        match (self.is_bucketed(), user) {
            (true, u) => u + 8,
            (false, 0) => 8,
            (false, u) => u,
        }
    }

    pub fn value_size(&self) -> u32 {
        match self.kind {
            MapKind::Value => self.value.size().div_ceil(8) * 8,
            MapKind::Min | MapKind::Max | MapKind::Avg | MapKind::Stats => 16,
            _ => 8,
        }
    }

    pub fn per_cpu(&self) -> bool {
        self.kind != MapKind::Value
    }

    pub fn elf_name(&self) -> String {
        let plain = format!("AT_{}", self.name.trim_start_matches('@'));
        if plain.len() <= 15 {
            plain
        } else {
            format!("AT{}", self.id.0)
        }
    }

    pub fn def(&self) -> MapDef {
        MapDef {
            name: self.elf_name(),
            map_type: match (self.per_cpu(), self.lru) {
                (true, false) => BPF_MAP_TYPE_PERCPU_HASH,
                (false, false) => BPF_MAP_TYPE_HASH,
                (true, true) => BPF_MAP_TYPE_LRU_PERCPU_HASH,
                (false, true) => BPF_MAP_TYPE_LRU_HASH,
            },
            key_size: self.bpf_key_size(),
            value_size: self.value_size(),
            max_entries: self.max_entries,
        }
    }

    pub fn info(&self, env: &TypeEnv) -> meta::MapInfo {
        let value = match self.kind {
            MapKind::Value => self.value.to_meta(env),
            _ => meta::Ty::Int {
                size: 8,
                signed: true,
            },
        };
        meta::MapInfo {
            name: self.name.clone(),
            elf_name: self.elf_name(),
            kind: self.kind.clone(),
            key: self.key.as_ref().map(|k| k.to_meta(env)),
            key_size: self.user_key_size(),
            value,
            per_cpu: self.per_cpu(),
        }
    }
}
