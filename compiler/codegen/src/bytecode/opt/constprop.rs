//! Constant propagation and folding over the facts of [`super::facts`]: an instruction
//! whose result is known becomes `%d = imm` (a load of known slot bytes too, so the
//! stores that filled the slot can die); a known operand becomes an immediate when it
//! fits 32 bits; `x op c` that reduces to `x` or a constant is rewritten; a constant left
//! side of a commutative ALU or a comparison moves right; a decided branch becomes a
//! jump. Immediates never go where eBPF rejects them: division and modulo by an
//! immediate zero are folded away instead.

use super::facts::{analyze, Facts};
use super::fold;
use ebpfc_compiler::ir::{AluOp, Base, Function, Inst, Operand, Term, VReg};

/// Rewrites `f` with what the facts prove; true if anything changed.
pub fn run(f: &mut Function) -> bool {
    let entry = analyze(f);
    let mut changed = false;
    for (block, facts) in f.blocks.iter_mut().zip(entry) {
        let Some(mut facts) = facts else { continue };
        for inst in &mut block.insts {
            let new = rewrite(inst, &facts);
            facts.step(&new);
            if new != *inst {
                *inst = new;
                changed = true;
            }
        }
        let term = rewrite_term(&block.term, &facts);
        if term != block.term {
            block.term = term;
            changed = true;
        }
    }
    changed
}

/// `inst` with the facts applied.
fn rewrite(inst: &Inst, facts: &Facts) -> Inst {
    if let Some(new) = folded(inst, facts) {
        return new;
    }
    let mut new = inst.clone();
    for op in super::cfg::operands_mut(&mut new) {
        *op = immediate(*op, facts);
    }
    match new {
        Inst::Alu { dst, op, lhs, rhs } => alu(dst, op, lhs, rhs, facts),
        Inst::Set {
            dst,
            cond,
            lhs,
            rhs: Operand::Reg(r),
        } if facts.value(Operand::Reg(lhs)).is_some_and(fold::fits_imm) => Inst::Set {
            dst,
            cond: fold::swapped(cond),
            lhs: r,
            rhs: immediate(Operand::Reg(lhs), facts),
        },
        other => other,
    }
}

/// A pure instruction whose result is known, as `%d = imm`.
fn folded(inst: &Inst, facts: &Facts) -> Option<Inst> {
    let dst = inst.def()?;
    if matches!(
        inst,
        Inst::Call { .. } | Inst::Ctx { .. } | Inst::Param { .. }
    ) {
        return None;
    }
    let value = facts.eval(inst)?;
    let slot_load = matches!(
        inst,
        Inst::Load {
            base: Base::Slot(_),
            ..
        }
    );
    let new = Inst::Mov {
        dst,
        src: Operand::Imm(value),
    };
    // A wide constant costs two instruction slots; only a slot load gains from it.
    (fold::fits_imm(value) || slot_load).then_some(new)
}

/// `op` as an immediate when its value is known and fits.
fn immediate(op: Operand, facts: &Facts) -> Operand {
    match facts.value(op) {
        Some(v) if fold::fits_imm(v) => Operand::Imm(v),
        _ => op,
    }
}

/// An ALU instruction with a known right side reduced, and a known left side moved
/// right when the operation commutes.
fn alu(dst: VReg, op: AluOp, lhs: VReg, rhs: Operand, facts: &Facts) -> Inst {
    if let Operand::Imm(c) = rhs {
        match fold::identity(op, c) {
            Some(None) => {
                return Inst::Mov {
                    dst,
                    src: Operand::Reg(lhs),
                }
            }
            Some(Some(k)) => {
                return Inst::Mov {
                    dst,
                    src: Operand::Imm(k),
                }
            }
            None => {}
        }
    }
    match (rhs, immediate(Operand::Reg(lhs), facts)) {
        (Operand::Reg(r), Operand::Imm(k)) if fold::commutative(op) => Inst::Alu {
            dst,
            op,
            lhs: r,
            rhs: Operand::Imm(k),
        },
        _ => Inst::Alu { dst, op, lhs, rhs },
    }
}

/// The terminator with the facts at the end of its block applied.
fn rewrite_term(term: &Term, facts: &Facts) -> Term {
    match *term {
        Term::Branch {
            cond,
            lhs,
            rhs,
            then,
            otherwise,
        } => {
            if then == otherwise {
                return Term::Jump(then);
            }
            let (l, r) = (facts.value(Operand::Reg(lhs)), facts.value(rhs));
            if let (Some(a), Some(b)) = (l, r) {
                return Term::Jump(if fold::cmp(cond, a, b) {
                    then
                } else {
                    otherwise
                });
            }
            let (cond, lhs, rhs) = match (rhs, l) {
                (Operand::Reg(r), Some(a)) if fold::fits_imm(a) => {
                    (fold::swapped(cond), r, Operand::Imm(a))
                }
                _ => (cond, lhs, immediate(rhs, facts)),
            };
            Term::Branch {
                cond,
                lhs,
                rhs,
                then,
                otherwise,
            }
        }
        Term::Return(op) => Term::Return(immediate(op, facts)),
        Term::Jump(b) => Term::Jump(b),
    }
}
