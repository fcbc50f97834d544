//! Loops run at compile time: where control enters a loop with every value the loop
//! computes from known (`$n = 27; while ($n != 1) { ... }`), the loop is executed here
//! and the edge goes straight to where execution first depends on run time (a helper
//! call, a store, a value not known), with the vregs the loop wrote set to their final
//! values. The kernel's verifier then has no loop to walk, as with LLVM's folding.
//!
//! Execution follows eBPF's semantics ([`super::fold`]) and stops after
//! [`MAX_STEPS`] instructions; a loop that has not reached such a point by then is left
//! alone.

use super::facts::{analyze, decided, on_edge, through, Facts};
use ebpfc_compiler::ir::{Block, BlockId, Function, Inst, Operand, SourceSpan, Term, VReg};
use std::collections::BTreeSet;

/// The most instructions one loop entry is executed for.
const MAX_STEPS: usize = 1 << 22;

/// Replaces every loop entry whose execution can be completed here; true if one was.
pub fn run(f: &mut Function) -> bool {
    let headers = loop_headers(f);
    if headers.is_empty() {
        return false;
    }
    let entry = analyze(f);
    let mut changed = false;
    for (p, inn) in entry.into_iter().enumerate() {
        let Some(inn) = inn else { continue };
        let term = f.blocks[p].term.clone();
        let out = through(&f.blocks[p], inn);
        for h in term.successors() {
            if !headers.contains(&(BlockId(p as u32), h)) {
                continue;
            }
            if let Some(block) = execute(f, h, on_edge(&term, h, &out)) {
                let new = BlockId(f.blocks.len() as u32);
                f.blocks.push(block);
                retarget(&mut f.blocks[p].term, h, new);
                changed = true;
            }
        }
    }
    changed
}

/// The edges `(from, header)` that enter a loop from outside it: edges into a block that
/// a back edge of the depth-first search from the entry also reaches.
fn loop_headers(f: &Function) -> BTreeSet<(BlockId, BlockId)> {
    let n = f.blocks.len();
    let (mut state, mut back_targets) = (vec![0u8; n], BTreeSet::new());
    let mut stack = vec![(BlockId(0), f.blocks[0].term.successors())];
    state[0] = 1;
    while let Some((b, succs)) = stack.last_mut() {
        let b = *b;
        match succs.pop() {
            Some(s) if state[s.0 as usize] == 0 => {
                state[s.0 as usize] = 1;
                stack.push((s, f.blocks[s.0 as usize].term.successors()));
            }
            Some(s) if state[s.0 as usize] == 1 => {
                back_targets.insert((b, s));
            }
            Some(_) => {}
            None => {
                state[b.0 as usize] = 2;
                stack.pop();
            }
        }
    }
    let back: BTreeSet<BlockId> = back_targets.iter().map(|(_, h)| *h).collect();
    let mut entries = BTreeSet::new();
    for (i, block) in f.blocks.iter().enumerate() {
        let from = BlockId(i as u32);
        for s in block.term.successors() {
            if back.contains(&s) && !back_targets.contains(&(from, s)) && state[i] != 0 {
                entries.insert((from, s));
            }
        }
    }
    entries
}

/// Executes from the start of `header` with `facts`; once execution has come back to a
/// block it already ran, the block that sets what it wrote and goes on from where it
/// stopped. `None` when it never looped or ran out of steps.
fn execute(f: &Function, header: BlockId, mut facts: Facts) -> Option<Block> {
    let (mut block, mut at, mut steps) = (header, 0usize, 0usize);
    let (mut seen, mut looped) = (BTreeSet::from([header]), false);
    let mut written = BTreeSet::new();
    let mut source = None;
    loop {
        steps += 1;
        if steps > MAX_STEPS {
            return None;
        }
        let b = &f.blocks[block.0 as usize];
        let Some(inst) = b.insts.get(at) else {
            let Some(next) = decided(&b.term, &facts) else {
                break;
            };
            looped |= !seen.insert(next);
            (block, at) = (next, 0);
            continue;
        };
        match inst {
            Inst::Source { span } => source = Some(*span),
            _ => match (inst.def(), pure(inst).then(|| facts.eval(inst)).flatten()) {
                (Some(dst), Some(_)) => {
                    facts.step(inst);
                    written.insert(dst);
                }
                _ => break,
            },
        }
        at += 1;
    }
    looped.then(|| resume(&f.blocks[block.0 as usize], at, &facts, &written, source))
}

/// The block that sets every vreg in `written` to its value in `facts`, then runs
/// `block` from instruction `at` on.
fn resume(
    block: &Block,
    at: usize,
    facts: &Facts,
    written: &BTreeSet<VReg>,
    source: Option<SourceSpan>,
) -> Block {
    let mut insts: Vec<Inst> = written
        .iter()
        .filter_map(|&dst| {
            let value = facts.value(Operand::Reg(dst))?;
            Some(Inst::Mov {
                dst,
                src: Operand::Imm(value),
            })
        })
        .collect();
    let marked = matches!(block.insts.get(at), Some(Inst::Source { .. }));
    if let (Some(span), false) = (source, marked) {
        insts.push(Inst::Source { span });
    }
    insts.extend_from_slice(&block.insts[at..]);
    Block {
        insts,
        term: block.term.clone(),
    }
}

/// Whether `inst` only computes a vreg from vregs and stack bytes.
fn pure(inst: &Inst) -> bool {
    matches!(
        inst,
        Inst::Mov { .. }
            | Inst::Alu { .. }
            | Inst::Neg { .. }
            | Inst::Ext { .. }
            | Inst::Set { .. }
            | Inst::Load {
                base: ebpfc_compiler::ir::Base::Slot(_),
                ..
            }
    )
}

/// Points the edges of `term` into `from` at `to`.
fn retarget(term: &mut Term, from: BlockId, to: BlockId) {
    match term {
        Term::Jump(t) if *t == from => *t = to,
        Term::Branch {
            then, otherwise, ..
        } => {
            for t in [then, otherwise] {
                if *t == from {
                    *t = to;
                }
            }
        }
        _ => {}
    }
}
