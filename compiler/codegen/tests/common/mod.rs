//! Shared fixtures for the ELF writer tests: an instruction encoder and a small object spec
//! whose programs the verifier accepts.

#![allow(dead_code)]

use aya_obj::generated::{
    bpf_func_id, bpf_map_type, BPF_ADD, BPF_ALU64, BPF_CALL, BPF_DW, BPF_EXIT, BPF_IMM, BPF_JMP,
    BPF_K, BPF_LD, BPF_MEM, BPF_MOV, BPF_PSEUDO_MAP_FD, BPF_STX, BPF_X,
};
use ebpfc_codegen::spec::{MapSpec, ObjectSpec, ProgramSpec};

pub const R0: u8 = 0;
pub const R1: u8 = 1;
pub const R2: u8 = 2;
pub const R3: u8 = 3;
pub const R4: u8 = 4;
pub const R10: u8 = 10;

pub const HASH_MAP: &str = "AT_counts";
pub const RINGBUF: &str = "events";
pub const METADATA: &[u8] = b"{\"version\":1}\0\xff binary tail";

/// Builds program code one instruction at a time.
#[derive(Default)]
pub struct Asm {
    pub code: Vec<u8>,
    pub map_relocs: Vec<(usize, String)>,
}

impl Asm {
    fn insn(&mut self, op: u32, dst: u8, src: u8, off: i16, imm: i32) -> &mut Self {
        self.code.push(op as u8);
        self.code.push(dst | (src << 4));
        self.code.extend_from_slice(&off.to_le_bytes());
        self.code.extend_from_slice(&imm.to_le_bytes());
        self
    }

    pub fn slots(&self) -> usize {
        self.code.len() / 8
    }

    pub fn mov_imm(&mut self, dst: u8, imm: i32) -> &mut Self {
        self.insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
    }

    pub fn mov_reg(&mut self, dst: u8, src: u8) -> &mut Self {
        self.insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
    }

    pub fn add_imm(&mut self, dst: u8, imm: i32) -> &mut Self {
        self.insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm)
    }

    /// `*(u64 *)(dst + off) = src`
    pub fn store_dw(&mut self, dst: u8, off: i16, src: u8) -> &mut Self {
        self.insn(BPF_STX | BPF_MEM | BPF_DW, dst, src, off, 0)
    }

    /// `dst = map ll`, recorded as a map relocation.
    pub fn ld_map(&mut self, dst: u8, map: &str) -> &mut Self {
        self.map_relocs.push((self.slots(), map.to_owned()));
        self.insn(
            BPF_LD | BPF_IMM | BPF_DW,
            dst,
            BPF_PSEUDO_MAP_FD as u8,
            0,
            0,
        );
        self.insn(0, 0, 0, 0, 0)
    }

    pub fn call(&mut self, helper: bpf_func_id) -> &mut Self {
        self.insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper as i32)
    }

    pub fn exit(&mut self) -> &mut Self {
        self.insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
    }

    pub fn program(&self, name: &str, section: &str) -> ProgramSpec {
        ProgramSpec {
            name: name.into(),
            section: section.into(),
            code: self.code.clone(),
            map_relocs: self.map_relocs.clone(),
            func_relocs: Vec::new(),
        }
    }
}

/// `u64 key = 0; bpf_map_lookup_elem(&AT_counts, &key); return 0;` (9 slots, reloc at 4).
pub fn lookup_program() -> Asm {
    let mut a = Asm::default();
    a.mov_imm(R1, 0).store_dw(R10, -8, R1);
    a.mov_reg(R2, R10).add_imm(R2, -8);
    a.ld_map(R1, HASH_MAP);
    a.call(bpf_func_id::BPF_FUNC_map_lookup_elem);
    a.mov_imm(R0, 0).exit();
    a
}

/// `u64 v = 0; bpf_ringbuf_output(&events, &v, 8, 0); return 0;` (11 slots, reloc at 2).
pub fn ringbuf_program() -> Asm {
    let mut a = Asm::default();
    a.mov_imm(R1, 0).store_dw(R10, -8, R1);
    a.ld_map(R1, RINGBUF);
    a.mov_reg(R2, R10).add_imm(R2, -8);
    a.mov_imm(R3, 8).mov_imm(R4, 0);
    a.call(bpf_func_id::BPF_FUNC_ringbuf_output);
    a.mov_imm(R0, 0).exit();
    a
}

pub fn maps() -> Vec<MapSpec> {
    vec![
        MapSpec {
            name: RINGBUF.into(),
            map_type: bpf_map_type::BPF_MAP_TYPE_RINGBUF as u32,
            key_size: 0,
            value_size: 0,
            max_entries: 256 * 1024,
            flags: 0,
        },
        MapSpec {
            name: HASH_MAP.into(),
            map_type: bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH as u32,
            key_size: 8,
            value_size: 8,
            max_entries: 4096,
            flags: 1, // BPF_F_NO_PREALLOC
        },
    ]
}

/// Four programs in three sections: two share `perf_event`.
pub fn sample_spec() -> ObjectSpec {
    ObjectSpec {
        programs: vec![
            lookup_program().program("probe_begin", "raw_tp/ebpfc_begin"),
            ringbuf_program().program("probe_openat", "tracepoint/syscalls/sys_enter_openat"),
            lookup_program().program("probe_tick", "perf_event"),
            ringbuf_program().program("probe_tock", "perf_event"),
        ],
        maps: maps(),
        metadata: METADATA.to_vec(),
        ..ObjectSpec::default()
    }
}
