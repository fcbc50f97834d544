//! Instruction selection: one IR function to eBPF instructions, given the register
//! allocation and the stack frame. The only scratch registers are r2 (wide immediates,
//! stored values not in a register) and r1 (spilled values, which never coexist with a
//! vreg in r1); r0-r5 are otherwise written only by calls and their arguments, which the
//! allocation accounts for. A branch falls through to whichever side is laid out next,
//! its condition inverted if need be; targets are patched once every block's position
//! is known. Only blocks reachable from the entry are emitted (the verifier rejects
//! unreachable code). Signed narrow loads and extensions use ISA v4's sign-extending
//! `ldx` and `movsx`, as signed division already does.

use super::insn::{Alu, Insn, Jmp, PSEUDO_FUNC, PSEUDO_MAP_FD, R0, R1, R10, R2};
use super::opt::fold::{self, inverted};
use super::regalloc::{Allocation, Loc};
use crate::CodegenError;
use ebpfc_compiler::ir::{
    AluOp, Arg, Base, BlockId, Cmp, Function, Inst, MapId, Operand, SourceSpan, Term, VReg,
};

/// The eBPF stack limit of one program.
pub const STACK_LIMIT: i32 = 512;

/// A selected function: instructions, its map and callback references, and the bytes
/// of stack it uses.
pub struct Selected {
    pub insns: Vec<Insn>,
    pub map_relocs: Vec<(usize, MapId)>,
    /// `ld_imm64` instructions loading a callback's address: (index, callback number).
    pub func_relocs: Vec<(usize, u32)>,
    pub stack: u32,
    /// (first instruction, source span) of each run of instructions from one
    /// statement, by instruction index.
    pub lines: Vec<(usize, SourceSpan)>,
    /// Jumps to an earlier instruction (the ends of loops), by index.
    pub back_edges: Vec<usize>,
}

struct Selector<'a> {
    alloc: &'a Allocation,
    slot_offsets: Vec<i32>,
    spill_base: i32,
    insns: Vec<Insn>,
    map_relocs: Vec<(usize, MapId)>,
    func_relocs: Vec<(usize, u32)>,
    fixups: Vec<(usize, BlockId)>,
    lines: Vec<(usize, SourceSpan)>,
}

/// Selects instructions for `f` with blocks laid out in `order`.
pub fn select(
    f: &Function,
    order: &[BlockId],
    alloc: &Allocation,
) -> Result<Selected, CodegenError> {
    let (slot_offsets, spill_base) = frame(f, order, alloc)?;
    let stack = (-spill_base) as u32 + 8 * alloc.spills;
    let mut s = Selector {
        alloc,
        slot_offsets,
        spill_base,
        insns: Vec::new(),
        map_relocs: Vec::new(),
        func_relocs: Vec::new(),
        fixups: Vec::new(),
        lines: Vec::new(),
    };
    let mut starts = vec![0usize; f.blocks.len()];
    for (i, b) in order.iter().enumerate() {
        starts[b.0 as usize] = s.insns.len();
        let block = &f.blocks[b.0 as usize];
        for inst in &block.insts {
            s.inst(inst);
        }
        s.term(&block.term, order.get(i + 1).copied());
    }
    let mut back_edges = Vec::new();
    for (at, target) in std::mem::take(&mut s.fixups) {
        let off = starts[target.0 as usize] as i64 - at as i64 - 1;
        if off < 0 {
            back_edges.push(at);
        }
        s.insns[at].off = i16::try_from(off).map_err(|_| {
            CodegenError::User(
                "the program is too large: a jump spans more than 32767 instructions".into(),
            )
        })?;
    }
    Ok(Selected {
        insns: s.insns,
        map_relocs: s.map_relocs,
        func_relocs: s.func_relocs,
        stack,
        lines: s.lines,
        back_edges,
    })
}

/// Stack offsets (from r10) of each slot, and where spill slots start.
fn frame(
    f: &Function,
    order: &[BlockId],
    alloc: &Allocation,
) -> Result<(Vec<i32>, i32), CodegenError> {
    let (offsets, used) = super::frame::layout(f, order);
    let used = used as i32;
    let spill_base = -used;
    let total = used + 8 * alloc.spills as i32;
    if total > STACK_LIMIT {
        return Err(CodegenError::User(format!(
            "probe '{}' needs {total} bytes of stack but eBPF allows {STACK_LIMIT}; use fewer or shorter strings, tuples or printf arguments in one probe",
            f.name
        )));
    }
    Ok((offsets, spill_base))
}

impl Selector<'_> {
    fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    fn loc(&self, v: VReg) -> Loc {
        self.alloc.locs[v.0 as usize].unwrap_or(Loc::Reg(R1))
    }

    fn spill_off(&self, n: u32) -> i16 {
        (self.spill_base - 8 * (n as i32 + 1)) as i16
    }

    /// The physical register holding `v`, loading a spilled value into `scratch`.
    fn use_reg(&mut self, v: VReg, scratch: u8) -> u8 {
        match self.loc(v) {
            Loc::Reg(r) => r,
            Loc::Spill(n) => {
                let off = self.spill_off(n);
                self.push(Insn::load(8, scratch, R10, off));
                scratch
            }
        }
    }

    /// The register to compute `v` into (scratch r1 for spilled vregs; see `finish_def`).
    fn def_reg(&self, v: VReg) -> u8 {
        match self.loc(v) {
            Loc::Reg(r) => r,
            Loc::Spill(_) => R1,
        }
    }

    /// Writes a spilled vreg back from the register it was computed in.
    fn finish_def(&mut self, v: VReg, reg: u8) {
        if let Loc::Spill(n) = self.loc(v) {
            let off = self.spill_off(n);
            self.push(Insn::store(8, R10, reg, off));
        }
    }

    /// Puts `op` into register `dst`.
    fn materialize(&mut self, dst: u8, op: Operand) {
        match op {
            Operand::Imm(i) if i32::try_from(i).is_ok() => self.push(Insn::mov_imm(dst, i as i32)),
            Operand::Imm(i) => self.insns.extend(Insn::ld_imm64(dst, 0, i)),
            Operand::Reg(v) => match self.loc(v) {
                Loc::Reg(r) if r == dst => {}
                Loc::Reg(r) => self.push(Insn::mov(dst, r)),
                Loc::Spill(n) => {
                    let off = self.spill_off(n);
                    self.push(Insn::load(8, dst, R10, off));
                }
            },
        }
    }

    /// `(register, offset)` addressing `base + offset`.
    fn address(&mut self, base: Base, offset: i32) -> (u8, i16) {
        match base {
            Base::Reg(v) => (self.use_reg(v, R1), offset as i16),
            Base::Slot(s) => (R10, (self.slot_offsets[s.0 as usize] + offset) as i16),
        }
    }

    fn inst(&mut self, inst: &Inst) {
        match inst {
            Inst::Ctx { dst } => self.mov_from(*dst, R1),
            Inst::Param { dst, index } => self.mov_from(*dst, R1 + index),
            Inst::Mov { dst, src } => {
                let d = self.def_reg(*dst);
                self.materialize(d, *src);
                self.finish_def(*dst, d);
            }
            Inst::Alu { dst, op, lhs, rhs } => self.alu(*dst, *op, *lhs, *rhs),
            Inst::Neg { dst, src } => {
                let d = self.def_reg(*dst);
                self.materialize(d, Operand::Reg(*src));
                self.push(Insn::alu_imm(Alu::Neg, d, 0));
                self.finish_def(*dst, d);
            }
            Inst::Ext {
                dst,
                src,
                size,
                signed,
            } => self.ext(*dst, *src, *size, *signed),
            Inst::Set {
                dst,
                cond,
                lhs,
                rhs,
            } => self.set(*dst, *cond, *lhs, *rhs),
            Inst::Load {
                dst,
                base,
                offset,
                size,
                signed,
            } => {
                let (reg, off) = self.address(*base, *offset);
                let d = self.def_reg(*dst);
                if *signed && *size < 8 {
                    self.push(Insn::load_signed(*size, d, reg, off));
                } else {
                    self.push(Insn::load(*size, d, reg, off));
                }
                self.finish_def(*dst, d);
            }
            Inst::Store {
                base,
                offset,
                size,
                value,
            } => self.store(*base, *offset, *size, *value),
            Inst::Call {
                dst, helper, args, ..
            } => self.call(*dst, *helper, args),
            Inst::Source { span } => self.source(*span),
        }
    }

    /// Notes that the next instructions come from `span`; a mark before no
    /// instruction replaces the one before it.
    fn source(&mut self, span: SourceSpan) {
        let at = self.insns.len();
        if self.lines.last().is_some_and(|(i, _)| *i == at) {
            self.lines.pop();
        }
        if self.lines.last().is_none_or(|(_, s)| *s != span) {
            self.lines.push((at, span));
        }
    }

    fn mov_from(&mut self, dst: VReg, src: u8) {
        match self.loc(dst) {
            Loc::Reg(d) if d != src => self.push(Insn::mov(d, src)),
            Loc::Reg(_) => {}
            Loc::Spill(_) => self.finish_def(dst, src),
        }
    }

    fn alu(&mut self, dst: VReg, op: AluOp, lhs: VReg, rhs: Operand) {
        let rhs = match (op, rhs) {
            // The verifier rejects immediate shifts of 64 or more; registers shift modulo 64.
            (AluOp::Shl | AluOp::LShr | AluOp::AShr, Operand::Imm(i)) => Operand::Imm(i & 63),
            _ => rhs,
        };
        // A commutative operation whose right side already sits in the destination's
        // register computes there.
        let (lhs, rhs) = match rhs {
            Operand::Reg(v) if fold::commutative(op) && self.same_reg(v, dst) => {
                (v, Operand::Reg(lhs))
            }
            _ => (lhs, rhs),
        };
        let d = self.def_reg(dst);
        let rhs_reg = match rhs {
            Operand::Imm(i) if i32::try_from(i).is_ok() => None,
            Operand::Imm(i) => {
                self.insns.extend(Insn::ld_imm64(R2, 0, i));
                Some(R2)
            }
            Operand::Reg(v) => {
                let r = self.use_reg(v, R2);
                if r == d && v != lhs {
                    self.push(Insn::mov(R2, r));
                    Some(R2)
                } else {
                    Some(r)
                }
            }
        };
        self.materialize(d, Operand::Reg(lhs));
        let imm = match rhs {
            Operand::Imm(i) => i as i32,
            Operand::Reg(_) => 0,
        };
        let (code, signed) = alu_code(op);
        let insn = match (signed, rhs_reg) {
            (true, src) => Insn::alu_signed(code, d, src, imm),
            (false, Some(src)) => Insn::alu_reg(code, d, src),
            (false, None) => Insn::alu_imm(code, d, imm),
        };
        self.push(insn);
        self.finish_def(dst, d);
    }

    fn ext(&mut self, dst: VReg, src: VReg, size: u8, signed: bool) {
        let d = self.def_reg(dst);
        let s = self.use_reg(src, R1);
        match (size, signed) {
            (4, false) => self.push(Insn::mov32(d, s)),
            (1 | 2, false) => {
                if d != s {
                    self.push(Insn::mov(d, s));
                }
                let mask = if size == 1 { 0xff } else { 0xffff };
                self.push(Insn::alu_imm(Alu::And, d, mask));
            }
            (1 | 2 | 4, true) => self.push(Insn::mov_signed(d, s, size)),
            _ if d != s => self.push(Insn::mov(d, s)),
            _ => {}
        }
        self.finish_def(dst, d);
    }

    /// `dst = cond(lhs, rhs) ? 1 : 0`: set to 1, skip the reset to 0 when the condition
    /// holds; when the comparison reads the destination's register, compare first.
    fn set(&mut self, dst: VReg, cond: Cmp, lhs: VReg, rhs: Operand) {
        match self.loc(dst) {
            Loc::Reg(d) if !self.reads_reg(d, lhs, rhs) => {
                self.push(Insn::mov_imm(d, 1));
                self.compare_jump(cond, lhs, rhs, 1);
                self.push(Insn::mov_imm(d, 0));
            }
            _ => {
                let d = self.def_reg(dst);
                self.compare_jump(cond, lhs, rhs, 2);
                self.push(Insn::mov_imm(d, 0));
                self.push(Insn::jmp_imm(Jmp::Ja, 0, 0, 1));
                self.push(Insn::mov_imm(d, 1));
                self.finish_def(dst, d);
            }
        }
    }

    /// Whether `a` and `b` live in the same register.
    fn same_reg(&self, a: VReg, b: VReg) -> bool {
        matches!(self.loc(a), Loc::Reg(r) if self.loc(b) == Loc::Reg(r))
    }

    /// Whether comparing `lhs` with `rhs` reads physical register `r`.
    fn reads_reg(&self, r: u8, lhs: VReg, rhs: Operand) -> bool {
        let in_r = |v: VReg| self.loc(v) == Loc::Reg(r);
        in_r(lhs) || matches!(rhs, Operand::Reg(v) if in_r(v))
    }

    /// A conditional jump with offset `off`; returns its index.
    fn compare_jump(&mut self, cond: Cmp, lhs: VReg, rhs: Operand, off: i16) -> usize {
        let l = self.use_reg(lhs, R1);
        let op = jmp_code(cond);
        let insn = match rhs {
            Operand::Imm(i) if i32::try_from(i).is_ok() => Insn::jmp_imm(op, l, i as i32, off),
            Operand::Imm(i) => {
                self.insns.extend(Insn::ld_imm64(R2, 0, i));
                Insn::jmp_reg(op, l, R2, off)
            }
            Operand::Reg(v) => {
                let r = self.use_reg(v, R2);
                Insn::jmp_reg(op, l, r, off)
            }
        };
        self.push(insn);
        self.insns.len() - 1
    }

    fn store(&mut self, base: Base, offset: i32, size: u8, value: Operand) {
        match value {
            Operand::Imm(i) if i32::try_from(i).is_ok() => {
                let (reg, off) = self.address(base, offset);
                self.push(Insn::store_imm(size, reg, off, i as i32));
            }
            Operand::Reg(v) if matches!(self.loc(v), Loc::Reg(_)) => {
                let src = self.use_reg(v, R2);
                let (reg, off) = self.address(base, offset);
                self.push(Insn::store(size, reg, src, off));
            }
            _ => {
                self.materialize(R2, value);
                let (reg, off) = self.address(base, offset);
                self.push(Insn::store(size, reg, R2, off));
            }
        }
    }

    fn call(&mut self, dst: Option<VReg>, helper: u32, args: &[Arg]) {
        for (i, arg) in args.iter().enumerate() {
            let reg = R1 + i as u8;
            match arg {
                Arg::Val(op) => self.materialize(reg, *op),
                Arg::Slot(s, off) => {
                    self.push(Insn::mov(reg, R10));
                    self.push(Insn::alu_imm(
                        Alu::Add,
                        reg,
                        self.slot_offsets[s.0 as usize] + off,
                    ));
                }
                Arg::Map(m) => {
                    self.map_relocs.push((self.insns.len(), *m));
                    self.insns.extend(Insn::ld_imm64(reg, PSEUDO_MAP_FD, 0));
                }
                Arg::Func(n) => {
                    self.func_relocs.push((self.insns.len(), *n));
                    self.insns.extend(Insn::ld_imm64(reg, PSEUDO_FUNC, 0));
                }
            }
        }
        self.push(Insn::call(helper));
        if let Some(d) = dst {
            self.mov_from(d, R0);
        }
    }

    fn term(&mut self, term: &Term, next: Option<BlockId>) {
        match term {
            Term::Jump(b) if Some(*b) == next => {}
            Term::Jump(b) => self.jump(*b),
            Term::Branch {
                cond,
                lhs,
                rhs,
                then,
                otherwise,
            } => {
                // Fall through to whichever side comes next.
                let (cond, taken, other) = if Some(*then) == next {
                    (inverted(*cond), *otherwise, *then)
                } else {
                    (*cond, *then, *otherwise)
                };
                let at = self.compare_jump(cond, *lhs, *rhs, 0);
                self.fixups.push((at, taken));
                if Some(other) != next {
                    self.jump(other);
                }
            }
            Term::Return(v) => {
                self.materialize(R0, *v);
                self.push(Insn::exit());
            }
        }
    }

    fn jump(&mut self, target: BlockId) {
        self.fixups.push((self.insns.len(), target));
        self.push(Insn::jmp_imm(Jmp::Ja, 0, 0, 0));
    }
}

fn alu_code(op: AluOp) -> (Alu, bool) {
    match op {
        AluOp::Add => (Alu::Add, false),
        AluOp::Sub => (Alu::Sub, false),
        AluOp::Mul => (Alu::Mul, false),
        AluOp::UDiv => (Alu::Div, false),
        AluOp::SDiv => (Alu::Div, true),
        AluOp::UMod => (Alu::Mod, false),
        AluOp::SMod => (Alu::Mod, true),
        AluOp::And => (Alu::And, false),
        AluOp::Or => (Alu::Or, false),
        AluOp::Xor => (Alu::Xor, false),
        AluOp::Shl => (Alu::Lsh, false),
        AluOp::LShr => (Alu::Rsh, false),
        AluOp::AShr => (Alu::Arsh, false),
    }
}

fn jmp_code(cond: Cmp) -> Jmp {
    match cond {
        Cmp::Eq => Jmp::Jeq,
        Cmp::Ne => Jmp::Jne,
        Cmp::ULt => Jmp::Jlt,
        Cmp::ULe => Jmp::Jle,
        Cmp::UGt => Jmp::Jgt,
        Cmp::UGe => Jmp::Jge,
        Cmp::SLt => Jmp::Jslt,
        Cmp::SLe => Jmp::Jsle,
        Cmp::SGt => Jmp::Jsgt,
        Cmp::SGe => Jmp::Jsge,
    }
}
