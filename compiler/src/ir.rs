//! The typed IR both backends consume. A [`Module`] holds maps and one [`Function`] per
//! BPF program; a function is a control-flow graph of [`Block`]s of [`Inst`]s over
//! virtual registers (64-bit) and stack slots. Invariants: every block ends in exactly
//! one terminator; a vreg is defined before every use on every path; stack slots are
//! fully initialized before they are passed to a helper that reads them.
//!
//! A program may own callbacks ([`Function::callbacks`]): subprograms whose address it
//! passes to a helper ([`Arg::Func`], e.g. `bpf_for_each_map_elem`). A callback reads
//! its arguments with [`Inst::Param`] and reaches the caller's stack only through the
//! pointers it is given, so a slot passed to such a helper may be read and written by the
//! call.

use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;
use std::fmt;

/// A virtual register holding a 64-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VReg(pub u32);
/// A stack buffer of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotId(pub u32);
/// A basic block of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);
/// A map of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MapId(pub u32);

/// The section of every callback (libbpf and aya find subprograms in `.text`).
pub const CALLBACK_SECTION: &str = ".text";

/// The compiled program.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub functions: Vec<Function>,
    pub maps: Vec<MapDef>,
    /// What the runtime needs (probes, user maps, printf formats).
    pub meta: meta::Metadata,
    /// Each expression's (function index, span, type) when compiled with
    /// `record_types`; empty otherwise.
    pub typed: Vec<(usize, Span, crate::types::Type)>,
    /// Warnings about the program; compilation succeeded.
    pub warnings: crate::error::Diagnostics,
}

/// A BPF map as the object declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDef {
    pub name: String,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
}

/// One BPF program.
#[derive(Debug, Clone)]
pub struct Function {
    /// Program symbol.
    pub name: String,
    /// libbpf section name.
    pub section: String,
    pub blocks: Vec<Block>,
    pub slots: Vec<Slot>,
    pub vregs: u32,
    /// The callbacks of a program, in the order [`Arg::Func`] numbers them. The
    /// callbacks of a program's callbacks are in this same list; a callback's own list is
    /// empty.
    pub callbacks: Vec<Function>,
}

/// A stack buffer: `size` bytes, 8-byte aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub size: u32,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub insts: Vec<Inst>,
    pub term: Term,
}

/// A value read by an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    Reg(VReg),
    Imm(i64),
}

/// Where a memory access points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// A pointer held in a register (map value, context).
    Reg(VReg),
    /// A stack slot.
    Slot(SlotId),
}

/// A helper call argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    Val(Operand),
    /// Address of `slot + offset`.
    Slot(SlotId, i32),
    /// A map (loaded as a map pointer).
    Map(MapId),
    /// The address of callback `n` of the program ([`Function::callbacks`]).
    Func(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    UDiv,
    SDiv,
    UMod,
    SMod,
    And,
    Or,
    Xor,
    Shl,
    LShr,
    AShr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    ULt,
    ULe,
    UGt,
    UGe,
    SLt,
    SLe,
    SGt,
    SGe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inst {
    /// `dst = ctx` (the program's context pointer; only in the entry block).
    Ctx {
        dst: VReg,
    },
    /// `dst = argument index` (0 for r1 ... 4 for r5) of a callback; only at the start of
    /// a callback's entry block, before any other instruction.
    Param {
        dst: VReg,
        index: u8,
    },
    Mov {
        dst: VReg,
        src: Operand,
    },
    Alu {
        dst: VReg,
        op: AluOp,
        lhs: VReg,
        rhs: Operand,
    },
    Neg {
        dst: VReg,
        src: VReg,
    },
    /// Truncate `src` to `size` bytes, then zero- or sign-extend to 64 bits.
    Ext {
        dst: VReg,
        src: VReg,
        size: u8,
        signed: bool,
    },
    /// `dst = cond(lhs, rhs) ? 1 : 0`.
    Set {
        dst: VReg,
        cond: Cmp,
        lhs: VReg,
        rhs: Operand,
    },
    /// Load `size` bytes at `base + offset`, zero- or sign-extended.
    Load {
        dst: VReg,
        base: Base,
        offset: i32,
        size: u8,
        signed: bool,
    },
    /// Store the low `size` bytes of `value` at `base + offset`.
    Store {
        base: Base,
        offset: i32,
        size: u8,
        value: Operand,
    },
    /// The instructions after this one, up to the next `Source`, come from the
    /// statement at `span` (for mapping verifier errors back to the program). Emits no
    /// code and reads or writes nothing.
    Source {
        span: Span,
    },
    /// Call BPF helper `helper` (named `name` for dumps); `dst` receives r0.
    Call {
        dst: Option<VReg>,
        helper: u32,
        name: &'static str,
        args: Vec<Arg>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Jump(BlockId),
    Branch {
        cond: Cmp,
        lhs: VReg,
        rhs: Operand,
        then: BlockId,
        otherwise: BlockId,
    },
    Return(Operand),
}

/// A span attached to generated code, for mapping errors back to source.
pub type SourceSpan = Span;

impl Term {
    /// Blocks this terminator can jump to.
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Term::Jump(b) => vec![*b],
            Term::Branch {
                then, otherwise, ..
            } => vec![*then, *otherwise],
            Term::Return(_) => vec![],
        }
    }
}

impl Inst {
    /// The vreg this instruction defines, if any.
    pub fn def(&self) -> Option<VReg> {
        match self {
            Inst::Ctx { dst }
            | Inst::Param { dst, .. }
            | Inst::Mov { dst, .. }
            | Inst::Alu { dst, .. }
            | Inst::Neg { dst, .. }
            | Inst::Ext { dst, .. }
            | Inst::Set { dst, .. }
            | Inst::Load { dst, .. } => Some(*dst),
            Inst::Call { dst, .. } => *dst,
            Inst::Store { .. } | Inst::Source { .. } => None,
        }
    }

    /// Every vreg this instruction reads.
    pub fn uses(&self) -> Vec<VReg> {
        let mut out = Vec::new();
        let mut op = |o: &Operand| {
            if let Operand::Reg(r) = o {
                out.push(*r)
            }
        };
        match self {
            Inst::Ctx { .. } | Inst::Param { .. } | Inst::Source { .. } => {}
            Inst::Mov { src, .. } => op(src),
            Inst::Alu { lhs, rhs, .. } | Inst::Set { lhs, rhs, .. } => {
                op(&Operand::Reg(*lhs));
                op(rhs);
            }
            Inst::Neg { src, .. } | Inst::Ext { src, .. } => op(&Operand::Reg(*src)),
            Inst::Load { base, .. } => {
                if let Base::Reg(r) = base {
                    op(&Operand::Reg(*r))
                }
            }
            Inst::Store { base, value, .. } => {
                if let Base::Reg(r) = base {
                    op(&Operand::Reg(*r))
                }
                op(value);
            }
            Inst::Call { args, .. } => {
                for a in args {
                    if let Arg::Val(v) = a {
                        op(v)
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for VReg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Reg(r) => write!(f, "{r}"),
            Operand::Imm(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base::Reg(r) => write!(f, "{r}"),
            Base::Slot(s) => write!(f, "slot{}", s.0),
        }
    }
}
