//! Dead store elimination for stack slots: a store none of whose bytes can be read
//! before they are overwritten or the program returns is removed. Byte liveness flows
//! backward over the CFG; a load reads its bytes, and a helper call may read every byte
//! of each slot passed to it (so buffers stay initialized for the verifier, which
//! rejects a helper reading uninitialized stack).

use ebpfc_compiler::ir::{Arg, Base, Function, Inst, SlotId};

/// Removes dead slot stores; true if one was removed.
pub fn run(f: &mut Function) -> bool {
    let bytes = Bytes::of(f);
    let live_out = live_out(f, &bytes);
    let mut changed = false;
    for (block, out) in f.blocks.iter_mut().zip(live_out) {
        let mut live = out;
        let mut dead = vec![false; block.insts.len()];
        for (i, inst) in block.insts.iter().enumerate().rev() {
            dead[i] = bytes.step(inst, &mut live);
        }
        if dead.contains(&true) {
            let mut flags = dead.into_iter();
            block.insts.retain(|_| !flags.next().unwrap_or(false));
            changed = true;
        }
    }
    changed
}

/// Where each slot's bytes start in one flat bit set.
struct Bytes {
    start: Vec<usize>,
    total: usize,
}

type Set = Vec<bool>;

impl Bytes {
    fn of(f: &Function) -> Bytes {
        let mut start = Vec::with_capacity(f.slots.len());
        let mut total = 0;
        for s in &f.slots {
            start.push(total);
            total += s.size as usize;
        }
        Bytes { start, total }
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
    fn step(&self, inst: &Inst, live: &mut Set) -> bool {
        match inst {
            Inst::Load {
                base: Base::Slot(s),
                offset,
                size,
                ..
            } => {
                let (lo, hi) = self.range(*s, *offset, usize::from(*size));
                live[lo..hi].fill(true);
            }
            Inst::Store {
                base: Base::Slot(s),
                offset,
                size,
                ..
            } => {
                let (lo, hi) = self.range(*s, *offset, usize::from(*size));
                let dead = offset_in_slot(*offset, *size, self.slot_size(*s))
                    && !live[lo..hi].contains(&true);
                live[lo..hi].fill(false);
                return dead;
            }
            Inst::Call { args, .. } => {
                for a in args {
                    if let Arg::Slot(s, _) = a {
                        let (lo, hi) = self.range(*s, 0, self.slot_size(*s));
                        live[lo..hi].fill(true);
                    }
                }
            }
            _ => {}
        }
        false
    }
}

/// Whether a store lies wholly inside its slot (anything else is left alone).
fn offset_in_slot(offset: i32, size: u8, slot_size: usize) -> bool {
    offset >= 0 && offset as usize + size as usize <= slot_size
}

/// The slot bytes live on exit from every block.
fn live_out(f: &Function, bytes: &Bytes) -> Vec<Set> {
    let n = f.blocks.len();
    let mut live_in = vec![vec![false; bytes.total]; n];
    let mut live_out = vec![vec![false; bytes.total]; n];
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..n).rev() {
            let mut out = vec![false; bytes.total];
            for s in f.blocks[i].term.successors() {
                for (o, l) in out.iter_mut().zip(&live_in[s.0 as usize]) {
                    *o |= *l;
                }
            }
            let mut inn = out.clone();
            for inst in f.blocks[i].insts.iter().rev() {
                bytes.step(inst, &mut inn);
            }
            if inn != live_in[i] || out != live_out[i] {
                live_in[i] = inn;
                live_out[i] = out;
                changed = true;
            }
        }
    }
    live_out
}
