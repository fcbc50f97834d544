//! Jump threading: an edge into a block without instructions goes straight to where that
//! block leads, when its terminator is a jump, or a branch the facts at the end of the
//! edge's source decide (the `%flag = 0 / %flag = 1` then `if %flag` shape of `||`, `&&`
//! and string comparisons). The bypassed blocks become unreachable.

use super::facts::{analyze, decided, on_edge, through, Facts};
use ebpfc_compiler::ir::{BlockId, Function, Term};

/// Retargets every edge that can skip empty blocks; true if one moved.
pub fn run(f: &mut Function) -> bool {
    let entry = analyze(f);
    let mut changed = false;
    for (b, inn) in entry.into_iter().enumerate() {
        let Some(inn) = inn else { continue };
        let out = through(&f.blocks[b], inn);
        let term = f.blocks[b].term.clone();
        let new = match term {
            Term::Jump(t) => Term::Jump(destination(f, t, &on_edge(&term, t, &out))),
            Term::Branch {
                cond,
                lhs,
                rhs,
                then,
                otherwise,
            } => Term::Branch {
                cond,
                lhs,
                rhs,
                then: destination(f, then, &on_edge(&term, then, &out)),
                otherwise: destination(f, otherwise, &on_edge(&term, otherwise, &out)),
            },
            Term::Return(_) => continue,
        };
        if new != f.blocks[b].term {
            f.blocks[b].term = new;
            changed = true;
        }
    }
    changed
}

/// Where control entering `target` with `facts` ends up before it runs an instruction.
fn destination(f: &Function, mut target: BlockId, facts: &Facts) -> BlockId {
    // Each step visits a distinct block, so a cycle of empty blocks stops the walk.
    for _ in 0..f.blocks.len() {
        let block = &f.blocks[target.0 as usize];
        if !super::cfg::runs_nothing(block) {
            break;
        }
        match decided(&block.term, facts) {
            Some(next) => target = next,
            None => break,
        }
    }
    target
}
