//! Callbacks: a block lowered as a subprogram that a helper calls (the body of
//! `for ($kv : @m)`, called by `bpf_for_each_map_elem` once per entry).
//!
//! A callback shares nothing with the code that passes it but a context block in the
//! caller's stack, whose address the helper hands to every call (argument 4):
//! - offset 0: the probe's context pointer (for `args`, `kstack`, `arg0`...);
//! - offset 8, when the body may call `exit()`: a flag the callback sets before it stops
//!   the iteration; the caller then ends the probe (inside another callback, it passes the
//!   request on the same way);
//! - then every variable of the enclosing code that the body names, by value: 8 bytes
//!   for an integer or pointer, the whole buffer for a string, tuple or formatted value;
//!   and the macro arguments it names, read-only.
//!
//! The callback copies the captured values in at its entry and the variables back before
//! it returns; the caller copies them back after the call. So the body reads and assigns
//! the enclosing variables as if it ran in place, and a variable first assigned inside
//! the body stays local to it (scratch variables are scoped to their block).
//!
//! The callback returns 0 to continue the iteration (end of the body, `continue`) and 1
//! to stop it (`break`, `exit()`). `return` inside the body is refused, as bpftrace does.

use super::mentions::Mentions;
use super::{Lower, Val, Var};
use crate::builder::FnBuilder;
use crate::ir::{Base, BlockId, Cmp, Function, Inst, Operand, SlotId, Term, VReg};
use std::collections::HashMap;

/// Offset of the probe's context pointer in the context block.
const CTX_OFFSET: i32 = 0;
/// Offset of the exit flag in the context block, when there is one.
const EXIT_OFFSET: i32 = 8;

/// One register or buffer that holds (part of) a captured value.
#[derive(Debug, Clone, Copy)]
enum Part {
    Reg(VReg),
    /// A stack slot and its size.
    Slot(SlotId, u32),
}

impl Part {
    fn size(&self) -> u32 {
        match self {
            Part::Reg(_) => 8,
            Part::Slot(_, size) => *size,
        }
    }
}

/// What a captured name stands for in the enclosing code.
#[derive(Debug, Clone)]
enum Outer {
    Var(Var),
    /// A macro argument (read-only).
    Ident(Val),
}

/// One value the callback receives through the context block.
#[derive(Debug)]
struct Capture {
    name: String,
    outer: Outer,
    /// Where its parts start in the context block.
    offset: i32,
    /// The enclosing code's parts.
    outer_parts: Vec<Part>,
    /// The callback's own parts (set when the callback is lowered).
    inner_parts: Vec<Part>,
}

impl Capture {
    /// Whether the body's changes go back to the enclosing code: variables do, macro
    /// arguments and loop entries do not.
    fn writable(&self) -> bool {
        matches!(&self.outer, Outer::Var(v) if !matches!(v, Var::Entry(_)))
    }
}

/// The context block of one callback call.
#[derive(Debug)]
pub(super) struct Frame {
    /// The caller's slot holding the block.
    pub slot: SlotId,
    exit_flag: bool,
    captures: Vec<Capture>,
}

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
    /// Lays out and fills the context block of a callback whose body names `mentions`
    /// (`own` is the name the callback binds itself, not captured).
    pub(super) fn callback_frame(&mut self, mentions: &Mentions, own: &str) -> Frame {
        let mut offset = if mentions.exits { EXIT_OFFSET + 8 } else { 8 };
        let mut captures = Vec::new();
        for name in mentions.names.iter().filter(|n| *n != own) {
            let outer = match (self.vars.get(name), self.macro_ident(name)) {
                (Some(var), _) => Outer::Var(var.clone()),
                (None, Some(val)) => Outer::Ident(val),
                (None, None) => continue,
            };
            let outer_parts = self.parts(&outer);
            if outer_parts.is_empty() {
                continue;
            }
            let size: u32 = outer_parts.iter().map(Part::size).sum();
            captures.push(Capture {
                name: name.clone(),
                outer,
                offset,
                outer_parts,
                inner_parts: Vec::new(),
            });
            offset += size as i32;
        }
        let slot = self.b.slot(offset as u32);
        let frame = Frame {
            slot,
            exit_flag: mentions.exits,
            captures,
        };
        self.fill_frame(&frame);
        frame
    }

    /// The registers and slots holding `outer`, in the order they are copied.
    fn parts(&self, outer: &Outer) -> Vec<Part> {
        let slot = |s: &SlotId| vec![Part::Slot(*s, self.b.slot_size(*s))];
        match outer {
            Outer::Var(Var::Scalar(r, _) | Var::Mem(r, _, _)) => vec![Part::Reg(*r)],
            Outer::Var(Var::Str(s, _) | Var::Bytes(s, _)) => slot(s),
            Outer::Var(Var::Entry(e)) => vec![Part::Reg(e.key), Part::Reg(e.value)],
            Outer::Ident(Val::Scalar(Operand::Reg(r), _)) => vec![Part::Reg(*r)],
            Outer::Ident(Val::Mem {
                addr: Operand::Reg(r),
                ..
            }) => vec![Part::Reg(*r)],
            Outer::Ident(Val::Str(s, _) | Val::Bytes(s, _)) => slot(s),
            Outer::Ident(_) => Vec::new(),
        }
    }

    /// Stores the probe's context, a cleared exit flag and the captured values.
    fn fill_frame(&mut self, frame: &Frame) {
        let block = Base::Slot(frame.slot);
        let ctx = Operand::Reg(self.ctx);
        self.store8(block, CTX_OFFSET, ctx);
        if frame.exit_flag {
            self.store8(block, EXIT_OFFSET, Operand::Imm(0));
        }
        for cap in &frame.captures {
            self.copy_parts(block, cap.offset, &cap.outer_parts, true);
        }
    }

    /// Copies `parts` to (`out`) or from the context block at `base + offset`.
    fn copy_parts(&mut self, base: Base, mut offset: i32, parts: &[Part], out: bool) {
        for part in parts {
            match (*part, out) {
                (Part::Reg(r), true) => self.store8(base, offset, Operand::Reg(r)),
                (Part::Reg(r), false) => self.b.emit(Inst::Load {
                    dst: r,
                    base,
                    offset,
                    size: 8,
                    signed: false,
                }),
                (Part::Slot(s, n), true) => self.b.copy(base, offset, Base::Slot(s), 0, n),
                (Part::Slot(s, n), false) => self.b.copy(Base::Slot(s), 0, base, offset, n),
            }
            offset += part.size() as i32;
        }
    }

    fn store8(&mut self, base: Base, offset: i32, value: Operand) {
        self.b.emit(Inst::Store {
            base,
            offset,
            size: 8,
            value,
        });
    }

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
        let result = self.b.vreg();
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(0),
        });
        self.b.finish(Term::Jump(out), stop);
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(1),
        });
        self.b.jump_to(out);
        for cap in frame.captures.iter().filter(|c| c.writable()) {
            self.copy_parts(Base::Reg(block), cap.offset, &cap.inner_parts, true);
        }
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

    /// Gives the callback its own copy of every captured value: variables go to
    /// `self.vars`; the macro arguments are returned for the callback's macro scope.
    fn bind_captures(&mut self, frame: &mut Frame, block: VReg) -> HashMap<String, Val> {
        let mut idents = self.macro_idents.last().cloned().unwrap_or_default();
        // Arguments held in the enclosing function's registers or slots are only valid
        // there: the captured ones are rebound below, the others are never named.
        idents.retain(|_, v| self.parts(&Outer::Ident(v.clone())).is_empty());
        for cap in &mut frame.captures {
            cap.inner_parts = cap
                .outer_parts
                .iter()
                .map(|p| match p {
                    Part::Reg(_) => Part::Reg(self.b.vreg()),
                    Part::Slot(_, n) => Part::Slot(self.b.slot(*n), *n),
                })
                .collect();
            self.copy_parts(Base::Reg(block), cap.offset, &cap.inner_parts, false);
            match &cap.outer {
                Outer::Var(var) => {
                    let var = rebuild_var(var, &cap.inner_parts);
                    self.vars.insert(cap.name.clone(), var);
                }
                Outer::Ident(val) => {
                    idents.insert(cap.name.clone(), rebuild_val(val, &cap.inner_parts));
                }
            }
        }
        idents
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
        let block = Base::Slot(frame.slot);
        for cap in frame.captures.iter().filter(|c| c.writable()) {
            self.copy_parts(block, cap.offset, &cap.outer_parts, false);
        }
        if frame.exit_flag {
            let flag = self.b.vreg();
            self.b.emit(Inst::Load {
                dst: flag,
                base: block,
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

/// `var` held in `parts` instead of its own registers and slots.
fn rebuild_var(var: &Var, parts: &[Part]) -> Var {
    match (var, parts) {
        (Var::Scalar(_, ty), [Part::Reg(r)]) => Var::Scalar(*r, ty.clone()),
        (Var::Mem(_, ty, user), [Part::Reg(r)]) => Var::Mem(*r, ty.clone(), *user),
        (Var::Str(_, size), [Part::Slot(s, _)]) => Var::Str(*s, *size),
        (Var::Bytes(_, ty), [Part::Slot(s, _)]) => Var::Bytes(*s, ty.clone()),
        (Var::Entry(e), [Part::Reg(key), Part::Reg(value)]) => Var::Entry(super::Entry {
            key: *key,
            value: *value,
            ..e.clone()
        }),
        (other, _) => other.clone(),
    }
}

/// `val` held in `parts` instead of its own registers and slots.
fn rebuild_val(val: &Val, parts: &[Part]) -> Val {
    match (val, parts) {
        (Val::Scalar(_, ty), [Part::Reg(r)]) => Val::Scalar(Operand::Reg(*r), ty.clone()),
        (Val::Mem { ty, user, .. }, [Part::Reg(r)]) => Val::Mem {
            addr: Operand::Reg(*r),
            ty: ty.clone(),
            user: *user,
        },
        (Val::Str(_, size), [Part::Slot(s, _)]) => Val::Str(*s, *size),
        (Val::Bytes(_, ty), [Part::Slot(s, _)]) => Val::Bytes(*s, ty.clone()),
        (other, _) => other.clone(),
    }
}
