//! Vreg liveness by backward dataflow over the CFG: which vregs are live on entry to and
//! exit from every block, and after every instruction of one block.

use super::cfg::term_uses;
use ebpfc_compiler::ir::{Block, Function, VReg};
use std::collections::BTreeSet;

/// One set of vregs per block.
pub type Sets = Vec<BTreeSet<VReg>>;

/// Live-in and live-out sets of every block.
pub fn blocks(f: &Function) -> (Sets, Sets) {
    let n = f.blocks.len();
    let (mut uses, mut defs) = (vec![BTreeSet::new(); n], vec![BTreeSet::new(); n]);
    for (i, block) in f.blocks.iter().enumerate() {
        let reads = block.insts.iter().map(|inst| (inst.uses(), inst.def()));
        let reads = reads.chain([(term_uses(&block.term), None)]);
        for (used, def) in reads {
            for u in used {
                if !defs[i].contains(&u) {
                    uses[i].insert(u);
                }
            }
            if let Some(d) = def {
                defs[i].insert(d);
            }
        }
    }
    let (mut live_in, mut live_out): (Sets, Sets) =
        (vec![BTreeSet::new(); n], vec![BTreeSet::new(); n]);
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..n).rev() {
            let out: BTreeSet<VReg> = f.blocks[i]
                .term
                .successors()
                .iter()
                .flat_map(|s| live_in[s.0 as usize].iter().copied())
                .collect();
            let mut inn: BTreeSet<VReg> = out.difference(&defs[i]).copied().collect();
            inn.extend(uses[i].iter().copied());
            if inn != live_in[i] || out != live_out[i] {
                live_in[i] = inn;
                live_out[i] = out;
                changed = true;
            }
        }
    }
    (live_in, live_out)
}

/// The vregs live right after each instruction of `block`, given its live-out set.
pub fn after_each(block: &Block, live_out: &BTreeSet<VReg>) -> Vec<BTreeSet<VReg>> {
    let mut live = live_out.clone();
    live.extend(term_uses(&block.term));
    let mut out = vec![BTreeSet::new(); block.insts.len()];
    for (i, inst) in block.insts.iter().enumerate().rev() {
        out[i] = live.clone();
        if let Some(d) = inst.def() {
            live.remove(&d);
        }
        live.extend(inst.uses());
    }
    out
}
