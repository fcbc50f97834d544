//! Dead store elimination for stack slots: a store none of whose bytes can be read
//! before they are overwritten or the program returns is removed. Byte liveness flows
//! backward over the CFG; a load reads its bytes, and a helper call may read every byte
//! of each slot passed to it (so buffers stay initialized for the verifier, which
//! rejects a helper reading uninitialized stack).

use super::liveness::SlotBytes;
use ebpfc_compiler::ir::Function;

/// Removes dead slot stores; true if one was removed.
pub fn run(f: &mut Function) -> bool {
    let bytes = SlotBytes::of(f);
    let (_, live_out) = bytes.blocks(f);
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
