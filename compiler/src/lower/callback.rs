//! Callbacks: a block lowered as a subprogram that a helper calls (the body of
//! `for ($kv : @m)`, called by `bpf_for_each_map_elem` once per entry).
//!
//! A callback shares nothing with the code that passes it but a context block in the
//! caller's stack (see `capture`), whose address the helper hands to every call
//! (argument 4): the probe's context pointer (for `args`, `kstack`, `arg0`...), a flag
//! for `exit()`, and every variable of the enclosing code that the body names, by value
//! (and the macro arguments it names, read-only).
//!
//! The callback copies the captured values in at its entry and the variables back before
//! it returns; the caller copies them back after the call. So the body reads and assigns
//! the enclosing variables as if it ran in place, and a variable first assigned inside
//! the body stays local to it (scratch variables are scoped to their block). `exit()` in
//! the body sets the flag and stops the iteration; the caller then ends the probe (inside
//! another callback, it passes the request on the same way).
//!
//! The callback returns 0 to continue the iteration (end of the body, `continue`) and 1
//! to stop it (`break`, `exit()`). `return` inside the body is refused, as bpftrace does.

use super::capture::{Frame, CTX_OFFSET, EXIT_OFFSET};
use super::{Lower, Var};
use crate::builder::FnBuilder;
use crate::ir::{Base, BlockId, Cmp, Function, Inst, Operand, Term, VReg};
use std::collections::HashMap;

/// The callback being lowered.
pub(super) struct Scope {
    /// The context block pointer (argument 4).
    block: VReg,
    exit_flag: bool,
    /// Copies the variables back and returns 1.
    stop: BlockId,
    /// `expansions.len()` when the callback started: a `return` at this depth would
    /// leave the callback.
    expansions: usize,
}

/// What the enclosing function keeps while a callback is lowered.
struct Saved {
    b: FnBuilder,
    vars: HashMap<String, Var>,
    ctx: VReg,
    loops: Vec<(BlockId, BlockId)>,
    callback: Option<Scope>,
}

impl Lower<'_> {
    /// Lowers a callback over `frame`: `body` runs with the key and value pointers the
    /// helper passes (arguments 2 and 3) and the captured values bound. Returns the
    /// callback's index for [`crate::ir::Arg::Func`].
    pub(super) fn callback(
        &mut self,
        frame: &mut Frame,
        body: impl FnOnce(&mut Self, VReg, VReg),
    ) -> u32 {
        let saved = self.enter_callback();
        let key = self.param(1);
        let value = self.param(2);
        let block = self.param(3);
        self.ctx = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: self.ctx,
            base: Base::Reg(block),
            offset: CTX_OFFSET,
            size: 8,
            signed: false,
        });
        let idents = self.bind_captures(frame, block);
        self.macro_idents.push(idents);
        let (next, stop, out) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.loops = vec![(next, stop)];
        self.callback = Some(Scope {
            block,
            exit_flag: frame.exit_flag,
            stop,
            expansions: self.expansions.len(),
        });
        body(self, key, value);
        self.b.jump_to(next);
        let result = self.b.var(Operand::Imm(0));
        self.b.finish(Term::Jump(out), stop);
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(1),
        });
        self.b.jump_to(out);
        self.store_back(frame, block);
        let after = self.fresh_block();
        self.b.finish(Term::Return(Operand::Reg(result)), after);
        self.macro_idents.pop();
        let function = self.leave_callback(saved);
        self.add_callback(function)
    }

    /// Adds a finished callback to the program; its index.
    pub(super) fn add_callback(&mut self, function: Function) -> u32 {
        self.callbacks.push(function);
        self.callbacks.len() as u32 - 1
    }

    fn param(&mut self, index: u8) -> VReg {
        let dst = self.b.vreg();
        self.b.emit(Inst::Param { dst, index });
        dst
    }

    fn enter_callback(&mut self) -> Saved {
        Saved {
            b: std::mem::take(&mut self.b),
            vars: std::mem::take(&mut self.vars),
            ctx: self.ctx,
            loops: std::mem::take(&mut self.loops),
            callback: self.callback.take(),
        }
    }

    fn leave_callback(&mut self, saved: Saved) -> Function {
        let b = std::mem::replace(&mut self.b, saved.b);
        self.vars = saved.vars;
        self.ctx = saved.ctx;
        self.loops = saved.loops;
        self.callback = saved.callback;
        b.build(String::new(), crate::ir::CALLBACK_SECTION.to_string())
    }

    /// After the helper call: the captured variables take the callback's changes, and
    /// if the body called `exit()`, the probe ends here too.
    pub(super) fn finish_frame(&mut self, frame: &Frame) {
        self.reload_captures(frame);
        if frame.exit_flag {
            let flag = self.b.vreg();
            self.b.emit(Inst::Load {
                dst: flag,
                base: Base::Slot(frame.slot),
                offset: EXIT_OFFSET,
                size: 8,
                signed: false,
            });
            let (end, go_on) = (self.fresh_block(), self.fresh_block());
            self.b.branch(Cmp::Ne, flag, Operand::Imm(0), end, go_on);
            self.end_probe();
            self.b.jump_to(go_on);
        }
    }

    /// Ends the probe here: the program returns; inside a callback, the iteration stops
    /// and the caller is asked to end the probe in turn.
    pub(super) fn end_probe(&mut self) {
        let next = self.fresh_block();
        let Some(scope) = &self.callback else {
            self.b.finish(Term::Return(Operand::Imm(0)), next);
            return;
        };
        let (block, stop) = (scope.block, scope.stop);
        if scope.exit_flag {
            self.store8(Base::Reg(block), EXIT_OFFSET, Operand::Imm(1));
        }
        self.b.finish(Term::Jump(stop), next);
    }

    /// Whether a `return` here would leave a callback (it is refused).
    pub(super) fn return_leaves_callback(&self) -> bool {
        self.callback
            .as_ref()
            .is_some_and(|c| c.expansions == self.expansions.len())
    }
}
