//! Stack frame layout: each IR stack slot gets an offset from r10. Slots whose lifetimes
//! do not overlap share bytes, so a probe with many statements (each with its own key,
//! value or event buffer) still fits the 512-byte eBPF stack. A slot's lifetime is the
//! span of positions between its first and last reference in the emitted block order,
//! widened to cover every loop it is referenced in (its bytes may be read again on the
//! next iteration).

use ebpfc_compiler::ir::{Arg, Base, BlockId, Function, Inst, SlotId};

/// Offsets (negative, from r10) of every slot, and the bytes the slots need in all.
pub fn layout(f: &Function, order: &[BlockId]) -> (Vec<i32>, u32) {
    let lifetimes = lifetimes(f, order);
    let mut by_start: Vec<(usize, usize, usize)> = lifetimes
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.map(|(s, e)| (s, e, i)))
        .collect();
    by_start.sort();
    let mut placed: Vec<(usize, u32, u32)> = Vec::new(); // (end, low byte, size)
    let mut offsets = vec![0i32; f.slots.len()];
    let mut total = 0u32;
    for (start, end, slot) in by_start {
        let size = f.slots[slot].size;
        placed.retain(|(e, _, _)| *e >= start);
        let low = first_fit(&placed, size);
        placed.push((end, low, size));
        offsets[slot] = -((low + size) as i32);
        total = total.max(low + size);
    }
    (offsets, total)
}

/// The lowest 8-aligned byte offset where `size` bytes overlap no live slot.
fn first_fit(placed: &[(usize, u32, u32)], size: u32) -> u32 {
    let mut taken: Vec<(u32, u32)> = placed.iter().map(|(_, low, sz)| (*low, low + sz)).collect();
    taken.sort();
    let mut candidate = 0;
    for (low, high) in taken {
        if candidate + size <= low {
            break;
        }
        candidate = candidate.max(high);
    }
    candidate
}

/// Position range in which each slot is referenced (None if never).
fn lifetimes(f: &Function, order: &[BlockId]) -> Vec<Option<(usize, usize)>> {
    let mut life: Vec<Option<(usize, usize)>> = vec![None; f.slots.len()];
    let mut bounds = vec![(0usize, 0usize); f.blocks.len()];
    let mut pos = 0;
    for b in order {
        let start = pos;
        for inst in &f.blocks[b.0 as usize].insts {
            for slot in slots_of(inst) {
                let l = &mut life[slot.0 as usize];
                *l = Some(l.map_or((pos, pos), |(s, e)| (s.min(pos), e.max(pos))));
            }
            pos += 1;
        }
        pos += 1;
        bounds[b.0 as usize] = (start, pos);
    }
    widen_over_loops(f, order, &bounds, &mut life);
    life
}

/// Widens every lifetime that touches a loop (a back edge `tail -> head` in the
/// emitted order) to cover the whole loop, until nothing changes.
fn widen_over_loops(
    f: &Function,
    order: &[BlockId],
    bounds: &[(usize, usize)],
    life: &mut [Option<(usize, usize)>],
) {
    let index_of = |b: BlockId| order.iter().position(|x| *x == b);
    let mut loops = Vec::new();
    for (i, b) in order.iter().enumerate() {
        for succ in f.blocks[b.0 as usize].term.successors() {
            if index_of(succ).is_some_and(|j| j <= i) {
                loops.push((bounds[succ.0 as usize].0, bounds[b.0 as usize].1));
            }
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for l in life.iter_mut().flatten() {
            for &(head, tail) in &loops {
                let overlaps = l.0 <= tail && l.1 >= head;
                if overlaps && (l.0 > head || l.1 < tail) {
                    *l = (l.0.min(head), l.1.max(tail));
                    changed = true;
                }
            }
        }
    }
}

/// Every slot an instruction references.
fn slots_of(inst: &Inst) -> Vec<SlotId> {
    match inst {
        Inst::Load {
            base: Base::Slot(s),
            ..
        }
        | Inst::Store {
            base: Base::Slot(s),
            ..
        } => vec![*s],
        Inst::Call { args, .. } => args
            .iter()
            .filter_map(|a| match a {
                Arg::Slot(s, _) => Some(*s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_reuses_gaps() {
        assert_eq!(first_fit(&[], 16), 0);
        assert_eq!(first_fit(&[(9, 0, 16)], 8), 16);
        assert_eq!(first_fit(&[(9, 16, 16)], 16), 0);
        assert_eq!(first_fit(&[(9, 16, 16)], 24), 32);
    }
}
