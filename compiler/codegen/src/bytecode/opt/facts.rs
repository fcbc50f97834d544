//! What is known at a program point: the constant value of vregs and of stack slot
//! bytes. A forward dataflow over the CFG ([`analyze`]) gives each reachable block the
//! facts that hold on entry on every path into it.

use super::fold;
use super::liveness::{self, ByteSet, SlotBytes};
use ebpfc_compiler::ir::{
    Arg, Base, Block, BlockId, Cmp, Function, Inst, Operand, SlotId, Term, VReg,
};
use std::collections::{BTreeMap, BTreeSet};

/// Helpers that only read the stack buffers passed to them (map lookup, update and
/// delete; perf and ring buffer output): their slots keep their known bytes.
const READ_ONLY_HELPERS: [u32; 5] = [1, 2, 3, 25, 130];

/// Known constants at one point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    regs: BTreeMap<VReg, i64>,
    /// (slot, byte offset) to the byte's value.
    bytes: BTreeMap<(u32, u32), u8>,
}

impl Facts {
    /// The constant value of `op`, if known.
    pub fn value(&self, op: Operand) -> Option<i64> {
        match op {
            Operand::Imm(i) => Some(i),
            Operand::Reg(r) => self.regs.get(&r).copied(),
        }
    }

    /// The facts that hold on both `self` and `other`.
    fn meet(&mut self, other: &Facts) {
        self.regs.retain(|r, v| other.regs.get(r) == Some(v));
        self.bytes.retain(|b, v| other.bytes.get(b) == Some(v));
    }

    /// The value a load of `size` bytes at `slot + offset` reads, if every byte is known.
    fn load(&self, slot: SlotId, offset: i32, size: u8, signed: bool) -> Option<i64> {
        let offset = u32::try_from(offset).ok()?;
        let mut value = 0u64;
        for i in (0..u32::from(size)).rev() {
            let byte = self.bytes.get(&(slot.0, offset + i))?;
            value = (value << 8) | u64::from(*byte);
        }
        Some(fold::ext(value as i64, size, signed))
    }

    fn store(&mut self, slot: SlotId, offset: i32, size: u8, value: Option<i64>) {
        let Ok(offset) = u32::try_from(offset) else {
            self.clobber(slot);
            return;
        };
        for i in 0..u32::from(size) {
            let key = (slot.0, offset + i);
            match value {
                Some(v) => self.bytes.insert(key, (v >> (8 * i)) as u8),
                None => self.bytes.remove(&key),
            };
        }
    }

    fn clobber(&mut self, slot: SlotId) {
        let known: Vec<_> = self
            .bytes
            .range((slot.0, 0)..=(slot.0, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in known {
            self.bytes.remove(&key);
        }
    }

    /// Forgets what no later instruction can read: vregs not in `vregs`, slot bytes not
    /// in `live` (facts about them cannot change what the program computes).
    fn keep_live(&mut self, vregs: &BTreeSet<VReg>, slots: &SlotBytes, live: &ByteSet) {
        self.regs.retain(|r, _| vregs.contains(r));
        self.bytes.retain(|(s, o), _| slots.contains(live, *s, *o));
    }

    fn set(&mut self, dst: VReg, value: Option<i64>) {
        match value {
            Some(v) => self.regs.insert(dst, v),
            None => self.regs.remove(&dst),
        };
    }

    /// Advances the facts over `inst`.
    pub fn step(&mut self, inst: &Inst) {
        match inst {
            Inst::Store {
                base: Base::Slot(s),
                offset,
                size,
                value,
            } => self.store(*s, *offset, *size, self.value(*value)),
            Inst::Store { .. } => {}
            Inst::Call {
                dst, helper, args, ..
            } => {
                if !READ_ONLY_HELPERS.contains(helper) {
                    for a in args {
                        if let Arg::Slot(s, _) = a {
                            self.clobber(*s);
                        }
                    }
                }
                if let Some(d) = dst {
                    self.regs.remove(d);
                }
            }
            _ => {
                if let Some(d) = inst.def() {
                    self.set(d, self.eval(inst));
                }
            }
        }
    }

    /// The constant a pure instruction defines, if its inputs are known.
    pub fn eval(&self, inst: &Inst) -> Option<i64> {
        let reg = |r: &VReg| self.regs.get(r).copied();
        match inst {
            Inst::Mov { src, .. } => self.value(*src),
            Inst::Alu { op, lhs, rhs, .. } => {
                let c = self.value(*rhs)?;
                match (reg(lhs), fold::identity(*op, c)) {
                    (Some(a), _) => Some(fold::alu(*op, a, c)),
                    (None, Some(Some(k))) => Some(k),
                    _ => None,
                }
            }
            Inst::Neg { src, .. } => reg(src).map(i64::wrapping_neg),
            Inst::Ext {
                src, size, signed, ..
            } => reg(src).map(|v| fold::ext(v, *size, *signed)),
            Inst::Set { cond, lhs, rhs, .. } => {
                Some(i64::from(fold::cmp(*cond, reg(lhs)?, self.value(*rhs)?)))
            }
            Inst::Load {
                base: Base::Slot(s),
                offset,
                size,
                signed,
                ..
            } => self.load(*s, *offset, *size, *signed),
            _ => None,
        }
    }
}

/// The facts after every instruction of `block`, starting from `facts`.
pub fn through(block: &Block, mut facts: Facts) -> Facts {
    for inst in &block.insts {
        facts.step(inst);
    }
    facts
}

/// Where `term` goes with `facts`, when they decide it (not for a return).
pub fn decided(term: &Term, facts: &Facts) -> Option<BlockId> {
    match *term {
        Term::Jump(next) => Some(next),
        Term::Branch {
            cond,
            lhs,
            rhs,
            then,
            otherwise,
        } => {
            let (a, b) = (facts.value(Operand::Reg(lhs))?, facts.value(rhs)?);
            Some(if fold::cmp(cond, a, b) {
                then
            } else {
                otherwise
            })
        }
        Term::Return(_) => None,
    }
}

/// The facts on the edge from a block ending in `term` to `succ`, given the facts `out`
/// at its end: the taken side of `x == c`, and the other side of `x != c`, know `x`.
pub fn on_edge(term: &Term, succ: BlockId, out: &Facts) -> Facts {
    let mut facts = out.clone();
    if let Term::Branch {
        cond: cond @ (Cmp::Eq | Cmp::Ne),
        lhs,
        rhs,
        then,
        otherwise,
    } = *term
    {
        let equal_side = if cond == Cmp::Eq { then } else { otherwise };
        if then != otherwise && succ == equal_side {
            if let Some(c) = out.value(rhs) {
                facts.regs.insert(lhs, c);
            }
        }
    }
    facts
}

/// The facts on entry to every block (`None` for blocks the entry does not reach), kept
/// to the vregs and slot bytes live there so that they stay small in long programs.
pub fn analyze(f: &Function) -> Vec<Option<Facts>> {
    let order = crate::bytecode::reachable(f);
    let (live_vregs, _) = liveness::blocks(f);
    let slots = SlotBytes::of(f);
    let (live_bytes, _) = slots.blocks(f);
    let mut entry: Vec<Option<Facts>> = vec![None; f.blocks.len()];
    entry[0] = Some(Facts::default());
    let mut changed = true;
    while changed {
        changed = false;
        for b in &order {
            let Some(inn) = entry[b.0 as usize].clone() else {
                continue;
            };
            let block = &f.blocks[b.0 as usize];
            let out = through(block, inn);
            for s in block.term.successors() {
                let mut out = on_edge(&block.term, s, &out);
                out.keep_live(&live_vregs[s.0 as usize], &slots, &live_bytes[s.0 as usize]);
                let slot = &mut entry[s.0 as usize];
                let next = match slot {
                    None => out,
                    Some(old) => {
                        let mut m = old.clone();
                        m.meet(&out);
                        m
                    }
                };
                if slot.as_ref() != Some(&next) {
                    *slot = Some(next);
                    changed = true;
                }
            }
        }
    }
    entry
}
