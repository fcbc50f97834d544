//! Dead code elimination: a pure instruction whose result no path reads is removed, and
//! so is a copy of a vreg to itself; a helper call whose result no path reads keeps its
//! call and loses its destination.

use super::liveness;
use ebpfc_compiler::ir::{Function, Inst, Operand};

/// Removes dead definitions; true if anything changed.
pub fn run(f: &mut Function) -> bool {
    let (_, live_out) = liveness::blocks(f);
    let mut changed = false;
    for (block, out) in f.blocks.iter_mut().zip(&live_out) {
        let after = liveness::after_each(block, out);
        let mut keep = Vec::with_capacity(block.insts.len());
        for (mut inst, live) in block.insts.drain(..).zip(after) {
            let self_copy = matches!(inst, Inst::Mov { dst, src: Operand::Reg(s) } if dst == s);
            let dead = self_copy || inst.def().is_some_and(|d| !live.contains(&d));
            match &mut inst {
                Inst::Call { dst, .. } if dead => {
                    *dst = None;
                    changed = true;
                }
                Inst::Call { .. } | Inst::Store { .. } => {}
                _ if dead => {
                    changed = true;
                    continue;
                }
                _ => {}
            }
            keep.push(inst);
        }
        block.insts = keep;
    }
    changed
}
