//! Liveness by backward dataflow over the CFG: which vregs are live on entry to and
//! exit from every block and after every instruction of one block, and which stack slot
//! bytes a later load or helper call may read.

use super::cfg::term_uses;
use ebpfc_compiler::ir::{Arg, Base, Block, Function, Inst, SlotId, VReg};
use fixedbitset::FixedBitSet;
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

/// Where each slot's bytes start in one flat bit set.
pub struct SlotBytes {
    start: Vec<usize>,
    total: usize,
}

/// One bit per slot byte.
pub type ByteSet = FixedBitSet;

impl SlotBytes {
    pub fn of(f: &Function) -> SlotBytes {
        let mut start = Vec::with_capacity(f.slots.len());
        let mut total = 0;
        for s in &f.slots {
            start.push(total);
            total += s.size as usize;
        }
        SlotBytes { start, total }
    }

    /// The bit range of `size` bytes at `slot + offset`, clamped to the slot.
    fn range(&self, slot: SlotId, offset: i32, size: usize) -> (usize, usize) {
        let (base, end) = (self.start[slot.0 as usize], self.slot_size(slot));
        let lo = (offset.max(0) as usize).min(end);
        let hi = (offset.max(0) as usize + size).min(end);
        (base + lo, base + hi)
    }

    fn slot_size(&self, slot: SlotId) -> usize {
        let i = slot.0 as usize;
        self.start.get(i + 1).copied().unwrap_or(self.total) - self.start[i]
    }

    /// Moves `live` backward over `inst`; true if `inst` is a store nothing reads.
    pub fn step(&self, inst: &Inst, live: &mut ByteSet) -> bool {
        match inst {
            Inst::Load {
                base: Base::Slot(s),
                offset,
                size,
                ..
            } => {
                let (lo, hi) = self.range(*s, *offset, usize::from(*size));
                live.insert_range(lo..hi);
            }
            Inst::Store {
                base: Base::Slot(s),
                offset,
                size,
                ..
            } => {
                let (lo, hi) = self.range(*s, *offset, usize::from(*size));
                let dead = offset_in_slot(*offset, *size, self.slot_size(*s))
                    && live.count_ones(lo..hi) == 0;
                live.remove_range(lo..hi);
                return dead;
            }
            Inst::Call { args, .. } => {
                for a in args {
                    if let Arg::Slot(s, _) = a {
                        let (lo, hi) = self.range(*s, 0, self.slot_size(*s));
                        live.insert_range(lo..hi);
                    }
                }
            }
            _ => {}
        }
        false
    }

    /// Whether byte `offset` of `slot` is in `set`.
    pub fn contains(&self, set: &ByteSet, slot: u32, offset: u32) -> bool {
        let slot = SlotId(slot);
        (offset as usize) < self.slot_size(slot)
            && set.contains(self.start[slot.0 as usize] + offset as usize)
    }

    /// The slot bytes live on entry to and exit from every block.
    pub fn blocks(&self, f: &Function) -> (Vec<ByteSet>, Vec<ByteSet>) {
        let n = f.blocks.len();
        let mut live_in = vec![FixedBitSet::with_capacity(self.total); n];
        let mut live_out = vec![FixedBitSet::with_capacity(self.total); n];
        let mut changed = true;
        while changed {
            changed = false;
            for i in (0..n).rev() {
                let mut out = FixedBitSet::with_capacity(self.total);
                for s in f.blocks[i].term.successors() {
                    out.union_with(&live_in[s.0 as usize]);
                }
                let mut inn = out.clone();
                for inst in f.blocks[i].insts.iter().rev() {
                    self.step(inst, &mut inn);
                }
                if inn != live_in[i] || out != live_out[i] {
                    live_in[i] = inn;
                    live_out[i] = out;
                    changed = true;
                }
            }
        }
        (live_in, live_out)
    }
}

/// Whether a store lies wholly inside its slot (anything else is left alone).
fn offset_in_slot(offset: i32, size: u8, slot_size: usize) -> bool {
    offset >= 0 && offset as usize + size as usize <= slot_size
}
