//! What a backend hands to the ELF writer: finished programs, map definitions and the
//! runtime metadata. Both backends produce an [`ObjectSpec`]; only `elf` turns it into bytes.

/// A complete object, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct ObjectSpec {
    pub programs: Vec<ProgramSpec>,
    /// The subprograms the programs pass to helpers (section `.text`), in any order;
    /// [`ProgramSpec::func_relocs`] name them.
    pub callbacks: Vec<ProgramSpec>,
    pub maps: Vec<MapSpec>,
    /// Contents of the `.ebpfc` section (serialized `ebpfc_stdlib::meta::Metadata`).
    pub metadata: Vec<u8>,
}

/// One BPF program (a global function symbol in its own section), or one callback.
#[derive(Debug, Clone, Default)]
pub struct ProgramSpec {
    /// Function symbol name (aya's program name), e.g. `probe_0`.
    pub name: String,
    /// libbpf section name, e.g. `tracepoint/syscalls/sys_enter_openat`, `perf_event`,
    /// `raw_tp/ebpfc_begin`, `kprobe/vfs_read`.
    pub section: String,
    /// Encoded instructions, 8 bytes each, little endian.
    pub code: Vec<u8>,
    /// `ld_imm64` instructions that load a map's address: (instruction index, map name).
    pub map_relocs: Vec<(usize, String)>,
    /// `ld_imm64` instructions that load a callback's address: (instruction index,
    /// callback name).
    pub func_relocs: Vec<(usize, String)>,
}

/// One BTF-defined map in `.maps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    pub name: String,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Zero for map types without keys (ring buffers).
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

impl ObjectSpec {
    /// The object holding `programs`, their `callbacks`, and `module`'s maps and
    /// metadata.
    pub fn for_module(
        module: &ebpfc_compiler::ir::Module,
        programs: Vec<ProgramSpec>,
        callbacks: Vec<ProgramSpec>,
    ) -> Self {
        ObjectSpec {
            programs,
            callbacks,
            maps: maps_of(module),
            metadata: module.meta.to_bytes(),
        }
    }
}

/// The map definitions of `module`, in declaration order.
pub fn maps_of(module: &ebpfc_compiler::ir::Module) -> Vec<MapSpec> {
    module
        .maps
        .iter()
        .map(|m| MapSpec {
            name: m.name.clone(),
            map_type: m.map_type,
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            flags: 0,
        })
        .collect()
}
