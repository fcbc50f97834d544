//! The context block through which a callback shares the enclosing code's values (see
//! `callback`): its layout, filling it before the helper call, binding its values in
//! the callback, and copying the variables back on both sides.
//!
//! Layout, every part 8-byte aligned:
//! - offset 0: the probe's context pointer;
//! - offset 8, when the body may call `exit()`: the exit flag;
//! - the values the body only reads, and the pointers of an enclosing loop's entry
//!   (`$kv` of an outer `for`);
//! - the integers and addresses the body assigns (8 bytes each, together);
//! - the strings, tuples and formatted values the body assigns (their whole buffers).
//!
//! The first region is read with plain loads: the verifier keeps the pointers' types and
//! knows the constants (a loop bound, say), which stay the same on every call. The values
//! the body assigns are read with `bpf_probe_read_kernel`, so that the verifier sees them
//! as unknown: it checks a callback as a loop of unknown length, and a counter it tracked
//! exactly (`$i++; if ($i == 10) { break; }`) would take a new value on every pass it
//! simulates, until it gives up on the program. Only those are copied back.

use super::mentions::Mentions;
use super::{Lower, Val, Var};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Inst, Operand, SlotId, VReg};
use std::collections::HashMap;

/// Offset of the probe's context pointer in the context block.
pub(super) const CTX_OFFSET: i32 = 0;
/// Offset of the exit flag in the context block, when there is one.
pub(super) const EXIT_OFFSET: i32 = 8;

/// One register or buffer that holds (part of) a captured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// A pointer the verifier must keep the type of (a map key or value).
    Ptr(VReg),
    /// An integer or address.
    Reg(VReg),
    /// A stack slot and its size.
    Slot(SlotId, u32),
}

impl Part {
    fn size(&self) -> u32 {
        match self {
            Part::Ptr(_) | Part::Reg(_) => 8,
            Part::Slot(_, size) => *size,
        }
    }

    /// Where the part goes in the block: what plain loads read (pointers, and the
    /// parts of values not `assigned`), then the assigned integers, then the assigned
    /// buffers.
    fn region(&self, assigned: bool) -> u8 {
        match self {
            Part::Ptr(_) => 0,
            _ if !assigned => 0,
            Part::Reg(_) => 1,
            Part::Slot(..) => 2,
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
    /// Whether the body assigns it.
    assigned: bool,
    /// The enclosing code's parts and their offsets in the block.
    outer_parts: Vec<(Part, i32)>,
    /// The callback's own parts (set when the callback is lowered), same offsets.
    inner_parts: Vec<(Part, i32)>,
}

impl Capture {
    /// Whether the body's changes go back to the enclosing code: those of the variables
    /// it assigns do (not macro arguments or loop entries, which it cannot assign).
    fn writable(&self) -> bool {
        self.assigned && matches!(&self.outer, Outer::Var(v) if !matches!(v, Var::Entry(_)))
    }
}

/// The context block of one callback call.
#[derive(Debug)]
pub(super) struct Frame {
    /// The caller's slot holding the block.
    pub slot: SlotId,
    pub exit_flag: bool,
    captures: Vec<Capture>,
    /// Where the integers start in the block, and their bytes.
    scalars: (i32, u32),
}

impl Lower<'_> {
    /// Lays out and fills the context block of a callback whose body names what
    /// `mentions` lists (`own` is the name the callback binds itself, not captured).
    pub(super) fn callback_frame(&mut self, mentions: &Mentions, own: &str) -> Frame {
        let mut captures = Vec::new();
        for name in mentions.names.iter().filter(|n| *n != own) {
            let outer = match (self.vars.get(name), self.macro_ident(name)) {
                (Some(var), _) => Outer::Var(var.clone()),
                (None, Some(val)) => Outer::Ident(val),
                (None, None) => continue,
            };
            let parts = self.parts(&outer);
            if !parts.is_empty() {
                let outer_parts = parts.into_iter().map(|p| (p, 0)).collect();
                let (name, inner_parts) = (name.clone(), Vec::new());
                let assigned = mentions.assigned.contains(&name);
                captures.push(Capture {
                    name,
                    outer,
                    assigned,
                    outer_parts,
                    inner_parts,
                });
            }
        }
        let exit_flag = mentions.exits;
        let start = if exit_flag { EXIT_OFFSET + 8 } else { 8 };
        let (scalars, end) = place_parts(&mut captures, start);
        let slot = self.b.slot(end as u32);
        let frame = Frame {
            slot,
            exit_flag,
            captures,
            scalars,
        };
        self.fill_frame(&frame);
        frame
    }

    /// The registers and slots holding `outer`.
    fn parts(&self, outer: &Outer) -> Vec<Part> {
        let slot = |s: &SlotId| vec![Part::Slot(*s, self.b.slot_size(*s))];
        match outer {
            Outer::Var(Var::Scalar(r, _) | Var::Mem(r, _, _)) => vec![Part::Reg(*r)],
            Outer::Var(Var::Str(s, _) | Var::Bytes(s, _)) => slot(s),
            Outer::Var(Var::Entry(e)) => vec![Part::Ptr(e.key), Part::Ptr(e.value)],
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
            self.copy_parts(block, &cap.outer_parts, true);
        }
    }

    /// Copies `parts` to (`out`) or from the context block at `base`.
    fn copy_parts(&mut self, base: Base, parts: &[(Part, i32)], out: bool) {
        for &(part, offset) in parts {
            match (part, out) {
                (Part::Ptr(r) | Part::Reg(r), true) => self.store8(base, offset, Operand::Reg(r)),
                (Part::Ptr(r) | Part::Reg(r), false) => self.load8(r, base, offset),
                (Part::Slot(s, n), true) => self.b.copy(base, offset, Base::Slot(s), 0, n),
                (Part::Slot(s, n), false) => self.b.copy(Base::Slot(s), 0, base, offset, n),
            }
        }
    }

    pub(super) fn store8(&mut self, base: Base, offset: i32, value: Operand) {
        self.b.emit(Inst::Store {
            base,
            offset,
            size: 8,
            value,
        });
    }

    fn load8(&mut self, dst: VReg, base: Base, offset: i32) {
        self.b.emit(Inst::Load {
            dst,
            base,
            offset,
            size: 8,
            signed: false,
        });
    }

    /// In the callback: gives it its own copy of every captured value, read from the
    /// block at `block`. Variables go to `self.vars`; the macro arguments are returned
    /// for the callback's macro scope.
    pub(super) fn bind_captures(&mut self, frame: &mut Frame, block: VReg) -> HashMap<String, Val> {
        let mut idents = self.macro_idents.last().cloned().unwrap_or_default();
        // Arguments held in the enclosing function's registers or slots are only valid
        // there: the captured ones are rebound below, the others are never named.
        idents.retain(|_, v| self.parts(&Outer::Ident(v.clone())).is_empty());
        let (scalar_start, scalar_len) = frame.scalars;
        let scalars = (scalar_len > 0).then(|| {
            let slot = self.b.slot(scalar_len);
            self.read_opaque(slot, block, scalar_start, scalar_len);
            (slot, scalar_start)
        });
        for cap in &mut frame.captures {
            let assigned = cap.assigned;
            cap.inner_parts = cap
                .outer_parts
                .iter()
                .map(|&(part, at)| (self.read_part(part, at, block, assigned, scalars), at))
                .collect();
            let parts: Vec<Part> = cap.inner_parts.iter().map(|(p, _)| *p).collect();
            match &cap.outer {
                Outer::Var(var) => {
                    let var = rebuild_var(var, &parts);
                    self.vars.insert(cap.name.clone(), var);
                }
                Outer::Ident(val) => {
                    idents.insert(cap.name.clone(), rebuild_val(val, &parts));
                }
            }
        }
        idents
    }

    /// The callback's copy of `part`, at `offset` in the block at `block`. The parts of
    /// `assigned` values are read opaquely: integers from `scalars`, the slot holding an
    /// opaque copy of their region (which starts at the given offset), buffers with
    /// their own opaque copy. The others are read with plain loads.
    fn read_part(
        &mut self,
        part: Part,
        offset: i32,
        block: VReg,
        assigned: bool,
        scalars: Option<(SlotId, i32)>,
    ) -> Part {
        match (part, assigned, scalars) {
            (Part::Reg(_), true, Some((slot, start))) => {
                let r = self.b.vreg();
                self.load8(r, Base::Slot(slot), offset - start);
                Part::Reg(r)
            }
            (Part::Ptr(_) | Part::Reg(_), ..) => {
                let r = self.b.vreg();
                self.load8(r, Base::Reg(block), offset);
                match part {
                    Part::Ptr(_) => Part::Ptr(r),
                    _ => Part::Reg(r),
                }
            }
            (Part::Slot(_, n), ..) => {
                let slot = self.b.slot(n);
                if assigned {
                    self.read_opaque(slot, block, offset, n);
                } else {
                    self.b
                        .copy(Base::Slot(slot), 0, Base::Reg(block), offset, n);
                }
                Part::Slot(slot, n)
            }
        }
    }

    /// Copies `len` bytes at `block + offset` into `slot` with `bpf_probe_read_kernel`:
    /// the verifier does not know the bytes it writes (a for-loop's captured values, a
    /// tracepoint record's char array).
    pub(super) fn read_opaque(&mut self, slot: SlotId, block: VReg, offset: i32, len: u32) {
        let src = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::Add,
            lhs: block,
            rhs: Operand::Imm(i64::from(offset)),
        });
        let args = vec![
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(len))),
            Arg::Val(Operand::Reg(src)),
        ];
        self.b.call(helpers::PROBE_READ_KERNEL, args);
    }

    /// In the callback, before it returns: the variables go back to the block.
    pub(super) fn store_back(&mut self, frame: &Frame, block: VReg) {
        for cap in frame.captures.iter().filter(|c| c.writable()) {
            self.copy_parts(Base::Reg(block), &cap.inner_parts, true);
        }
    }

    /// In the caller, after the call: the variables take the callback's changes.
    pub(super) fn reload_captures(&mut self, frame: &Frame) {
        for cap in frame.captures.iter().filter(|c| c.writable()) {
            self.copy_parts(Base::Slot(frame.slot), &cap.outer_parts, false);
        }
    }
}

/// Gives every part of `captures` its offset, from `start`: pointers, then integers,
/// then buffers. Returns the integers' region (start, bytes) and the block's size.
fn place_parts(captures: &mut [Capture], start: i32) -> ((i32, u32), i32) {
    let mut offset = start;
    let mut scalars = (0, 0);
    for region in 0..3 {
        if region == 1 {
            scalars.0 = offset;
        }
        for cap in captures.iter_mut() {
            for (part, at) in cap.outer_parts.iter_mut() {
                if part.region(cap.assigned) == region {
                    *at = offset;
                    offset += part.size() as i32;
                }
            }
        }
        if region == 1 {
            scalars.1 = (offset - scalars.0) as u32;
        }
    }
    (scalars, offset)
}

/// `var` held in `parts` instead of its own registers and slots.
fn rebuild_var(var: &Var, parts: &[Part]) -> Var {
    match (var, parts) {
        (Var::Scalar(_, ty), [Part::Reg(r)]) => Var::Scalar(*r, ty.clone()),
        (Var::Mem(_, ty, user), [Part::Reg(r)]) => Var::Mem(*r, ty.clone(), *user),
        (Var::Str(_, size), [Part::Slot(s, _)]) => Var::Str(*s, *size),
        (Var::Bytes(_, ty), [Part::Slot(s, _)]) => Var::Bytes(*s, ty.clone()),
        (Var::Entry(e), [Part::Ptr(key), Part::Ptr(value)]) => Var::Entry(super::Entry {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(assigned: bool, parts: Vec<Part>) -> Capture {
        Capture {
            name: String::new(),
            outer: Outer::Ident(Val::Void),
            assigned,
            outer_parts: parts.into_iter().map(|p| (p, 0)).collect(),
            inner_parts: Vec::new(),
        }
    }

    #[test]
    fn read_values_come_first_then_assigned_integers_then_assigned_buffers() {
        let mut captures = vec![
            capture(true, vec![Part::Slot(SlotId(0), 16)]),
            capture(true, vec![Part::Reg(VReg(1))]),
            capture(false, vec![Part::Ptr(VReg(2)), Part::Ptr(VReg(3))]),
            capture(true, vec![Part::Reg(VReg(4))]),
            capture(false, vec![Part::Reg(VReg(5))]),
            capture(false, vec![Part::Slot(SlotId(1), 8)]),
        ];
        let (scalars, end) = place_parts(&mut captures, 16);
        let offsets: Vec<Vec<i32>> = captures
            .iter()
            .map(|c| c.outer_parts.iter().map(|(_, at)| *at).collect())
            .collect();
        let want = [
            vec![64],
            vec![48],
            vec![16, 24],
            vec![56],
            vec![32],
            vec![40],
        ];
        assert_eq!(offsets, want);
        // The read-only string sits with the plain loads, before the assigned integers.
        assert_eq!(scalars, (48, 16));
        assert_eq!(end, 80);
    }

    #[test]
    fn without_assigned_integers_their_region_is_empty() {
        let mut captures = vec![capture(true, vec![Part::Slot(SlotId(0), 8)])];
        assert_eq!(place_parts(&mut captures, 8), ((8, 0), 16));
    }
}
