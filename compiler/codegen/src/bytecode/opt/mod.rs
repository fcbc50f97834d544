//! IR cleanup before register allocation, on a copy of each function (the IR the LLVM
//! backend and the dumps see is unchanged). Every pass preserves what the program
//! computes, helper calls and their order, and the verifier's needs: a slot byte a
//! helper may read keeps its store, and pointers into map values and the context are
//! addressed as before.
//!
//! The pipeline, repeated until nothing changes:
//! 1. [`cfg::clear_unreachable`]: blocks the entry cannot reach are emptied.
//! 2. [`constprop`]: constants through vregs and stack slot bytes; folded instructions,
//!    immediates in operands, decided branches.
//! 3. [`unloop`]: loops whose values are all known run here; control goes on from where
//!    the program first depends on run time.
//! 4. [`thread`]: edges into empty blocks go straight to where those blocks lead.
//! 5. [`dce`]: definitions nobody reads are removed (a call keeps its effect).
//! 6. [`dse`]: stores to slot bytes nothing reads before they are overwritten or the
//!    program returns.
//! 7. [`coalesce`]: `%t = op ...; %a = %t` becomes `%a = op ...` when `%t` dies there.

pub mod cfg;
pub mod coalesce;
pub mod constprop;
pub mod dce;
pub mod dse;
pub mod facts;
pub mod fold;
pub mod liveness;
pub mod thread;
pub mod unloop;

#[cfg(test)]
mod tests;

use ebpfc_compiler::ir::Function;

/// More rounds than any program needs; each round strictly shrinks or simplifies.
const MAX_ROUNDS: usize = 16;

/// The optimized copy of `f`.
pub fn optimize(f: &Function) -> Function {
    let mut f = f.clone();
    for _ in 0..MAX_ROUNDS {
        let mut changed = cfg::clear_unreachable(&mut f);
        changed |= constprop::run(&mut f);
        changed |= unloop::run(&mut f);
        changed |= thread::run(&mut f);
        changed |= dce::run(&mut f);
        changed |= dse::run(&mut f);
        changed |= coalesce::run(&mut f);
        if !changed {
            break;
        }
    }
    f
}
