//! Control-flow and operand helpers shared by the passes: reachability, and rewriting the
//! vregs an instruction or terminator reads or writes.

use ebpfc_compiler::ir::{Arg, Base, Block, Function, Inst, Operand, Term, VReg};

/// Which blocks the entry reaches.
pub fn reachable(f: &Function) -> Vec<bool> {
    let mut seen = vec![false; f.blocks.len()];
    for b in crate::bytecode::reachable(f) {
        seen[b.0 as usize] = true;
    }
    seen
}

/// Empties every block the entry cannot reach (its code is never emitted, and its uses
/// would only blur the analyses); true if one changed.
pub fn clear_unreachable(f: &mut Function) -> bool {
    let live = reachable(f);
    let mut changed = false;
    for (block, live) in f.blocks.iter_mut().zip(live) {
        let empty = block.insts.is_empty() && block.term == Term::Return(Operand::Imm(0));
        if !live && !empty {
            block.insts.clear();
            block.term = Term::Return(Operand::Imm(0));
            changed = true;
        }
    }
    changed
}

/// The vregs a terminator reads.
pub fn term_uses(t: &Term) -> Vec<VReg> {
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

/// Every operand slot of `inst` that may hold an immediate (the vregs in other
/// positions, such as an ALU's left side or a base pointer, must stay registers).
pub fn operands_mut(inst: &mut Inst) -> Vec<&mut Operand> {
    match inst {
        Inst::Mov { src, .. } => vec![src],
        Inst::Alu { rhs, .. } | Inst::Set { rhs, .. } => vec![rhs],
        Inst::Store { value, .. } => vec![value],
        Inst::Call { args, .. } => args
            .iter_mut()
            .filter_map(|a| match a {
                Arg::Val(op) => Some(op),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Every vreg `inst` reads, mutably.
fn uses_mut(inst: &mut Inst) -> Vec<&mut VReg> {
    fn op(o: &mut Operand) -> Option<&mut VReg> {
        match o {
            Operand::Reg(r) => Some(r),
            Operand::Imm(_) => None,
        }
    }
    fn base(b: &mut Base) -> Option<&mut VReg> {
        match b {
            Base::Reg(r) => Some(r),
            Base::Slot(_) => None,
        }
    }
    match inst {
        Inst::Ctx { .. } | Inst::Param { .. } | Inst::Source { .. } => Vec::new(),
        Inst::Mov { src, .. } => op(src).into_iter().collect(),
        Inst::Alu { lhs, rhs, .. } | Inst::Set { lhs, rhs, .. } => {
            std::iter::once(lhs).chain(op(rhs)).collect()
        }
        Inst::Neg { src, .. } | Inst::Ext { src, .. } => vec![src],
        Inst::Load { base: b, .. } => base(b).into_iter().collect(),
        Inst::Store { base: b, value, .. } => base(b).into_iter().chain(op(value)).collect(),
        Inst::Call { args, .. } => args
            .iter_mut()
            .filter_map(|a| match a {
                Arg::Val(o) => op(o),
                _ => None,
            })
            .collect(),
    }
}

/// Renames every read of `from` in `inst` to `to`.
pub fn rename_uses(inst: &mut Inst, from: VReg, to: VReg) {
    for r in uses_mut(inst) {
        if *r == from {
            *r = to;
        }
    }
}

/// Renames the vreg `inst` defines to `to`.
pub fn rename_def(inst: &mut Inst, to: VReg) {
    match inst {
        Inst::Ctx { dst }
        | Inst::Param { dst, .. }
        | Inst::Mov { dst, .. }
        | Inst::Alu { dst, .. }
        | Inst::Neg { dst, .. }
        | Inst::Ext { dst, .. }
        | Inst::Set { dst, .. }
        | Inst::Load { dst, .. } => *dst = to,
        Inst::Call { dst, .. } => *dst = Some(to),
        Inst::Store { .. } | Inst::Source { .. } => {}
    }
}

/// Whether `inst` reads or writes `v`.
pub fn mentions(inst: &Inst, v: VReg) -> bool {
    inst.def() == Some(v) || inst.uses().contains(&v)
}

/// Whether `block` runs no instruction (it may hold source marks).
pub fn runs_nothing(block: &Block) -> bool {
    block.insts.iter().all(|i| matches!(i, Inst::Source { .. }))
}
