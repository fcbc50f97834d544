//! Incremental construction of an IR [`Function`]: blocks, vregs, stack slots, and the
//! small instruction patterns (copies, zeroing) every lowering step needs.

use crate::ir::{
    Arg, Base, Block, BlockId, Cmp, Function, Inst, Operand, Slot, SlotId, Term, VReg,
};

/// Builds one function; the current block receives emitted instructions.
pub struct FnBuilder {
    blocks: Vec<Option<Block>>,
    pending: Vec<Inst>,
    current: BlockId,
    slots: Vec<Slot>,
    vregs: u32,
}

impl FnBuilder {
    pub fn new() -> Self {
        FnBuilder {
            blocks: vec![None],
            pending: Vec::new(),
            current: BlockId(0),
            slots: Vec::new(),
            vregs: 0,
        }
    }

    pub fn vreg(&mut self) -> VReg {
        self.vregs += 1;
        VReg(self.vregs - 1)
    }

    /// A new stack buffer of at least `size` bytes (rounded up to 8).
    pub fn slot(&mut self, size: u32) -> SlotId {
        self.slots.push(Slot {
            size: size.max(1).div_ceil(8) * 8,
        });
        SlotId(self.slots.len() as u32 - 1)
    }

    pub fn slot_size(&self, slot: SlotId) -> u32 {
        self.slots[slot.0 as usize].size
    }

    /// A new, empty block (not yet current).
    pub fn block(&mut self) -> BlockId {
        self.blocks.push(None);
        BlockId(self.blocks.len() as u32 - 1)
    }

    pub fn emit(&mut self, inst: Inst) {
        self.pending.push(inst);
    }

    /// Ends the current block with `term` and makes `next` current.
    pub fn finish(&mut self, term: Term, next: BlockId) {
        let insts = std::mem::take(&mut self.pending);
        self.blocks[self.current.0 as usize] = Some(Block { insts, term });
        self.current = next;
    }

    /// Ends the current block jumping to `next`, which becomes current.
    pub fn jump_to(&mut self, next: BlockId) {
        self.finish(Term::Jump(next), next);
    }

    /// Branches on `cond(lhs, rhs)`; the current block becomes `then`.
    pub fn branch(
        &mut self,
        cond: Cmp,
        lhs: VReg,
        rhs: Operand,
        then: BlockId,
        otherwise: BlockId,
    ) {
        self.finish(
            Term::Branch {
                cond,
                lhs,
                rhs,
                then,
                otherwise,
            },
            then,
        );
    }

    /// Makes `block` current. Only valid right after a terminator, when nothing is pending.
    pub fn switch_to(&mut self, block: BlockId) {
        debug_assert!(self.pending.is_empty());
        self.current = block;
    }

    /// Puts `value` in a register (constants get a fresh vreg).
    pub fn reg(&mut self, value: Operand) -> VReg {
        match value {
            Operand::Reg(r) => r,
            Operand::Imm(_) => self.var(value),
        }
    }

    /// A fresh vreg holding `value`, which the caller may then change.
    pub fn var(&mut self, value: Operand) -> VReg {
        let dst = self.vreg();
        self.emit(Inst::Mov { dst, src: value });
        dst
    }

    pub fn call(&mut self, helper: (u32, &'static str), args: Vec<Arg>) -> VReg {
        let dst = self.vreg();
        self.emit(Inst::Call {
            dst: Some(dst),
            helper: helper.0,
            name: helper.1,
            args,
        });
        dst
    }

    /// Writes zeros over `len` bytes at `base + offset` (8-byte stores where aligned).
    pub fn zero(&mut self, base: Base, offset: i32, len: u32) {
        let mut done = 0;
        while done < len {
            let at = offset + done as i32;
            let size = widest_access(len - done, &[at]);
            self.emit(Inst::Store {
                base,
                offset: at,
                size,
                value: Operand::Imm(0),
            });
            done += u32::from(size);
        }
    }

    /// Copies `len` bytes, 8 at a time where both locations are aligned for it.
    pub fn copy(&mut self, dst: Base, dst_off: i32, src: Base, src_off: i32, len: u32) {
        let mut done = 0;
        while done < len {
            let (to, from) = (dst_off + done as i32, src_off + done as i32);
            let size = widest_access(len - done, &[to, from]);
            let tmp = self.vreg();
            self.emit(Inst::Load {
                dst: tmp,
                base: src,
                offset: from,
                size,
                signed: false,
            });
            self.emit(Inst::Store {
                base: dst,
                offset: to,
                size,
                value: Operand::Reg(tmp),
            });
            done += u32::from(size);
        }
    }

    /// Closes the current block with `ret` and returns the function.
    pub fn build(mut self, name: String, section: String) -> Function {
        let next = BlockId(self.blocks.len() as u32);
        self.finish(Term::Return(Operand::Imm(0)), next);
        let blocks = self
            .blocks
            .into_iter()
            .map(|b| {
                b.unwrap_or(Block {
                    insts: Vec::new(),
                    term: Term::Return(Operand::Imm(0)),
                })
            })
            .collect();
        Function {
            name,
            section,
            blocks,
            slots: self.slots,
            vregs: self.vregs,
            callbacks: Vec::new(),
        }
    }
}

impl Default for FnBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The widest access (8, 4, 2 or 1 bytes) that fits in the `left` bytes and is aligned
/// at every one of `offsets`.
fn widest_access(left: u32, offsets: &[i32]) -> u8 {
    [8u8, 4, 2, 1]
        .into_iter()
        .find(|&s| u32::from(s) <= left && offsets.iter().all(|o| o % i32::from(s) == 0))
        .unwrap_or(1)
}
