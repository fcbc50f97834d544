//! Register allocation: liveness by backward dataflow over the CFG, one live interval
//! per vreg (the hull of every position it is live at), and linear scan. A vreg live
//! across a helper call gets a callee-saved register (r6-r9); one no call interrupts may
//! also take r0 or r3-r5, which only calls write (a call's result arrives in r0, its
//! arguments are written r1 first, r5 last, so an argument in r3-r5 must not sit below
//! the argument register written before it is read). Intervals that do not fit are
//! spilled to 8-byte stack slots. r2 stays free as scratch for instruction selection,
//! which uses it only within one IR instruction; so does r1 (for spilled values), except
//! in a function without spills, where call-free vregs may take it too (the context
//! arrives there). A callback's arguments (`Param`) go to r6-r9 or the stack, so the
//! argument registers r1-r5 keep their values until every argument is read.

use super::opt::cfg::term_uses;
use super::opt::liveness;
use ebpfc_compiler::ir::{Arg, BlockId, Function, Inst, Operand, VReg};

/// Registers that survive helper calls.
const CALLEE_SAVED: [u8; 4] = [6, 7, 8, 9];
/// Registers for a vreg no call interrupts, in order of preference: the ones only calls
/// write first, keeping r6-r9 for the values that must survive calls.
const CALL_FREE: [u8; 9] = [3, 4, 5, 0, 1, 6, 7, 8, 9];

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

/// What each vreg needs from its register.
#[derive(Debug, Clone, Copy, Default)]
struct Need {
    /// Live across a call: callee-saved only.
    across_call: bool,
    /// A callback's argument: callee-saved only, so that reading one argument register
    /// never overwrites another not read yet.
    param: bool,
    /// The lowest of r3-r5 it may use (it is a call argument).
    lowest_arg_reg: u8,
    /// The register that saves a move: its argument register, or r0 for a call result.
    preferred: Option<u8>,
    /// A vreg whose register it would best share.
    hint: Option<VReg>,
}

impl Need {
    /// Whether the vreg may live in `r` (`with_r1`: r1 is not needed as scratch).
    fn allows(&self, r: u8, with_r1: bool) -> bool {
        match r {
            6..=9 => true,
            _ if self.across_call => false,
            0 => true,
            1 => with_r1 && self.lowest_arg_reg <= 1,
            3..=5 => r >= self.lowest_arg_reg,
            _ => false,
        }
    }
}

/// Allocates every vreg of `f`, given the block emission order.
pub fn allocate(f: &Function, order: &[BlockId]) -> Allocation {
    let (intervals, needs) = intervals(f, order);
    let with_r1 = scan(f, &intervals, &needs, true);
    if with_r1.spills == 0 {
        return with_r1;
    }
    scan(f, &intervals, &needs, false)
}

/// Linear scan over the intervals.
fn scan(
    f: &Function,
    intervals: &[Option<(usize, usize)>],
    needs: &[Need],
    with_r1: bool,
) -> Allocation {
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
        let need = &needs[v.0 as usize];
        if let Some(r) = choose(need, &locs, &active, with_r1) {
            locs[v.0 as usize] = Some(Loc::Reg(r));
            active.push((end, v, r));
            continue;
        }
        let evict = active
            .iter()
            .enumerate()
            .filter(|(_, a)| need.allows(a.2, with_r1))
            .max_by_key(|(_, a)| a.0)
            .map(|(i, a)| (i, *a));
        match evict {
            Some((idx, (far_end, far_v, reg))) if far_end > end => {
                locs[far_v.0 as usize] = Some(Loc::Spill(spills));
                locs[v.0 as usize] = Some(Loc::Reg(reg));
                active[idx] = (end, v, reg);
            }
            _ => locs[v.0 as usize] = Some(Loc::Spill(spills)),
        }
        spills += 1;
    }
    Allocation { locs, spills }
}

/// A free register `need` allows: its hint's, its preferred one, then the first free.
fn choose(
    need: &Need,
    locs: &[Option<Loc>],
    active: &[(usize, VReg, u8)],
    with_r1: bool,
) -> Option<u8> {
    let free = |r: u8| need.allows(r, with_r1) && !active.iter().any(|a| a.2 == r);
    let hinted = need.hint.and_then(|h| match locs[h.0 as usize] {
        Some(Loc::Reg(r)) => Some(r),
        _ => None,
    });
    let pool: &[u8] = if need.across_call {
        &CALLEE_SAVED
    } else {
        &CALL_FREE
    };
    hinted
        .into_iter()
        .chain(need.preferred)
        .chain(pool.iter().copied())
        .find(|r| free(*r))
}

/// The hint of a vreg `inst` defines: the source of a copy, or the left side of the
/// operation (a two-operand eBPF instruction then computes in place, without a move).
fn hint(inst: &Inst) -> Option<VReg> {
    match inst {
        Inst::Mov {
            src: Operand::Reg(s),
            ..
        } => Some(*s),
        Inst::Alu { lhs: s, .. } | Inst::Neg { src: s, .. } | Inst::Ext { src: s, .. } => Some(*s),
        _ => None,
    }
}

/// Records what a call needs of its arguments and result.
fn call_needs(inst: &Inst, needs: &mut [Need]) {
    let Inst::Call { dst, args, .. } = inst else {
        return;
    };
    for (i, arg) in args.iter().enumerate() {
        if let Arg::Val(Operand::Reg(v)) = arg {
            let reg = 1 + i as u8;
            let need = &mut needs[v.0 as usize];
            need.lowest_arg_reg = need.lowest_arg_reg.max(reg);
            need.preferred.get_or_insert(reg);
        }
    }
    if let Some(d) = dst {
        needs[d.0 as usize].preferred.get_or_insert(0);
    }
}

/// (start, end) position of each vreg (`None` if it never appears), and its needs.
fn intervals(f: &Function, order: &[BlockId]) -> (Vec<Option<(usize, usize)>>, Vec<Need>) {
    let (live_in, live_out) = liveness::blocks(f);
    let mut iv: Vec<Option<(usize, usize)>> = vec![None; f.vregs as usize];
    let mut needs = vec![Need::default(); f.vregs as usize];
    let mut calls = Vec::new();
    let mut touch = |v: VReg, pos: usize| {
        let e = &mut iv[v.0 as usize];
        *e = Some(e.map_or((pos, pos), |(s, en)| (s.min(pos), en.max(pos))));
    };
    let mut pos = 0;
    for b in order {
        let block = &f.blocks[b.0 as usize];
        for v in &live_in[b.0 as usize] {
            touch(*v, pos);
        }
        for inst in &block.insts {
            for u in inst.uses() {
                touch(u, pos);
            }
            if let Some(d) = inst.def() {
                touch(d, pos + 1);
                let need = &mut needs[d.0 as usize];
                need.hint = need.hint.or(hint(inst));
                match inst {
                    Inst::Ctx { .. } => {
                        need.preferred.get_or_insert(1);
                    }
                    Inst::Param { .. } => need.param = true,
                    _ => {}
                }
            }
            if matches!(inst, Inst::Call { .. }) {
                calls.push(pos);
                call_needs(inst, &mut needs);
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
    for (need, iv) in needs.iter_mut().zip(&iv) {
        // A call at `c` reads its arguments at `c` and writes r0-r5 before `c + 1`.
        need.across_call =
            need.param || iv.is_some_and(|(s, e)| calls.iter().any(|&c| s <= c && e > c));
    }
    (iv, needs)
}
