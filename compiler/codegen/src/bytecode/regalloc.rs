//! Register allocation: liveness by backward dataflow over the CFG, one live interval
//! per vreg (the hull of every position it is live at), and linear scan over the
//! callee-saved registers r6-r9, which survive helper calls. Intervals that do not fit
//! are spilled to 8-byte stack slots. r0-r5 stay free as scratch for instruction
//! selection, which only uses them within one IR instruction.

use ebpfc_compiler::ir::{BlockId, Function, Operand, Term, VReg};
use std::collections::BTreeSet;

/// Registers available to vregs.
const ALLOCATABLE: [u8; 4] = [6, 7, 8, 9];

/// Where a vreg lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Reg(u8),
    /// Spill slot index (the frame assigns stack offsets).
    Spill(u32),
}

/// The allocation of one function.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub locs: Vec<Option<Loc>>,
    pub spills: u32,
}

/// Allocates every vreg of `f`, given the block emission order.
pub fn allocate(f: &Function, order: &[BlockId]) -> Allocation {
    let intervals = intervals(f, order);
    let mut by_start: Vec<(usize, usize, VReg)> = intervals
        .iter()
        .enumerate()
        .filter_map(|(v, iv)| iv.map(|(s, e)| (s, e, VReg(v as u32))))
        .collect();
    by_start.sort();
    let mut locs = vec![None; f.vregs as usize];
    let mut active: Vec<(usize, VReg, u8)> = Vec::new();
    let mut spills = 0;
    for (start, end, v) in by_start {
        active.retain(|(e, _, _)| *e >= start);
        let used: Vec<u8> = active.iter().map(|a| a.2).collect();
        if let Some(r) = ALLOCATABLE.iter().find(|r| !used.contains(r)) {
            locs[v.0 as usize] = Some(Loc::Reg(*r));
            active.push((end, v, *r));
            continue;
        }
        let (idx, &(far_end, far_v, reg)) = active
            .iter()
            .enumerate()
            .max_by_key(|(_, a)| a.0)
            .expect("active is full");
        if far_end > end {
            locs[far_v.0 as usize] = Some(Loc::Spill(spills));
            locs[v.0 as usize] = Some(Loc::Reg(reg));
            active[idx] = (end, v, reg);
        } else {
            locs[v.0 as usize] = Some(Loc::Spill(spills));
        }
        spills += 1;
    }
    Allocation { locs, spills }
}

fn term_uses(t: &Term) -> Vec<VReg> {
    match t {
        Term::Branch { lhs, rhs, .. } => {
            let mut v = vec![*lhs];
            if let Operand::Reg(r) = rhs {
                v.push(*r);
            }
            v
        }
        Term::Return(Operand::Reg(r)) => vec![*r],
        _ => vec![],
    }
}

/// (start, end) position of each vreg, or `None` if it never appears.
fn intervals(f: &Function, order: &[BlockId]) -> Vec<Option<(usize, usize)>> {
    let (live_in, live_out) = liveness(f);
    let mut iv: Vec<Option<(usize, usize)>> = vec![None; f.vregs as usize];
    let mut touch = |v: VReg, pos: usize| {
        let e = &mut iv[v.0 as usize];
        *e = Some(e.map_or((pos, pos), |(s, en)| (s.min(pos), en.max(pos))));
    };
    let mut pos = 0;
    for b in order {
        let block = &f.blocks[b.0 as usize];
        let start = pos;
        for v in &live_in[b.0 as usize] {
            touch(*v, start);
        }
        for inst in &block.insts {
            for u in inst.uses() {
                touch(u, pos);
            }
            if let Some(d) = inst.def() {
                touch(d, pos + 1);
            }
            pos += 2;
        }
        for u in term_uses(&block.term) {
            touch(u, pos);
        }
        for v in &live_out[b.0 as usize] {
            touch(*v, pos + 1);
        }
        pos += 2;
    }
    iv
}

type Sets = Vec<BTreeSet<VReg>>;

/// Live-in and live-out sets of every block.
fn liveness(f: &Function) -> (Sets, Sets) {
    let n = f.blocks.len();
    let (mut uses, mut defs) = (vec![BTreeSet::new(); n], vec![BTreeSet::new(); n]);
    for (i, block) in f.blocks.iter().enumerate() {
        for inst in &block.insts {
            for u in inst.uses() {
                if !defs[i].contains(&u) {
                    uses[i].insert(u);
                }
            }
            if let Some(d) = inst.def() {
                defs[i].insert(d);
            }
        }
        for u in term_uses(&block.term) {
            if !defs[i].contains(&u) {
                uses[i].insert(u);
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
