//! Copy coalescing within a block: for `%b = ...` followed later by `%a = %b`, where
//! `%b` is dead after the copy and nothing in between reads or writes `%a`, the first
//! instruction defines `%a` directly (reads of `%b` in between read `%a`) and the copy
//! goes. This turns the lowering's `%t = add %i, 1; %i = %t` into `%i = add %i, 1`.

use super::{cfg, liveness};
use ebpfc_compiler::ir::{Block, Function, Inst, Operand, VReg};
use std::collections::BTreeSet;

/// Coalesces every copy it can; true if one went.
pub fn run(f: &mut Function) -> bool {
    let (_, live_out) = liveness::blocks(f);
    let mut changed = false;
    for (block, out) in f.blocks.iter_mut().zip(&live_out) {
        while coalesce_one(block, out) {
            changed = true;
        }
    }
    changed
}

/// Coalesces the first copy of `block` that qualifies.
fn coalesce_one(block: &mut Block, live_out: &BTreeSet<VReg>) -> bool {
    let after = liveness::after_each(block, live_out);
    for (j, live) in after.iter().enumerate() {
        let Inst::Mov {
            dst: a,
            src: Operand::Reg(b),
        } = block.insts[j]
        else {
            continue;
        };
        if a == b || live.contains(&b) {
            continue;
        }
        if let Some(i) = source(&block.insts[..j], a, b) {
            cfg::rename_def(&mut block.insts[i], a);
            for inst in &mut block.insts[i + 1..j] {
                cfg::rename_uses(inst, b, a);
            }
            block.insts.remove(j);
            return true;
        }
    }
    false
}

/// The index of the last definition of `b` in `insts`, if `a` is not mentioned after it.
fn source(insts: &[Inst], a: VReg, b: VReg) -> Option<usize> {
    for (i, inst) in insts.iter().enumerate().rev() {
        if inst.def() == Some(b) {
            return Some(i);
        }
        if cfg::mentions(inst, a) {
            return None;
        }
    }
    None
}
