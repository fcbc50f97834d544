//! Lowering: the checked AST becomes IR. Every probe target gets its own [`Function`];
//! the bodies of its `for` loops over maps become that function's callbacks.
//!
//! Lowering runs twice over the whole program. The first pass only learns each map's
//! signature (kind, key type, value type) from its assignments, so a map read in one
//! probe before it is written in another still has the right type; its output is
//! discarded. The second pass emits the IR and reports type errors.

mod actions;
mod address;
mod buckets;
mod builtins;
mod callback;
mod calls;
mod capture;
mod cvalues;
mod dpath;
mod expr;
mod inline;
mod loops;
mod mapcheck;
mod mapfns;
mod mapfor;
mod maps;
mod mapsig;
mod memory;
mod mentions;
mod process;
mod scratch;
mod stmt;
mod strings;
mod tuples;
mod userfmt;
mod values;

use crate::builder::FnBuilder;
use crate::error::Diagnostics;
use crate::ir::{BlockId, Inst, MapDef, MapId, Operand, SlotId, VReg};
use crate::probes::Target;
use crate::types::Type;
use ebpfc_parser::ast;
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;
use std::collections::{BTreeMap, HashMap};

pub use inline::Callables;
pub use mapsig::MapSig;
pub use values::MAX_FRAMES;

/// A lowered expression value.
#[derive(Debug, Clone)]
pub enum Val {
    /// An integer or pointer held in a register or immediate.
    Scalar(Operand, Type),
    /// A string in a stack slot of `size` bytes (NUL-padded to the slot's end).
    Str(SlotId, u32),
    /// A value the runtime formats (inet, buffer, stack, symbol) in a stack slot laid
    /// out as its type's metadata says.
    Bytes(SlotId, Type),
    /// A struct or array in kernel (or, with `user`, user) memory at `addr`: it has
    /// no value of its own until a member or element is read.
    Mem {
        addr: Operand,
        ty: Type,
        user: bool,
    },
    /// The `args` of the current probe.
    Args,
    Void,
}

impl Val {
    pub fn ty(&self) -> Type {
        match self {
            Val::Scalar(_, t) => t.clone(),
            Val::Str(_, size) => Type::Str { size: *size },
            Val::Mem { ty, .. } | Val::Bytes(_, ty) => ty.clone(),
            Val::Args => Type::Args,
            Val::Void => Type::Void,
        }
    }

    fn zero() -> Val {
        Val::Scalar(Operand::Imm(0), Type::I64)
    }
}

/// State shared by every function of the module.
#[derive(Default)]
pub struct ModuleState {
    pub maps: BTreeMap<String, MapSig>,
    /// The size of strings `str()` reads (its longest string is one byte less).
    pub str_size: u32,
    pub formats: Vec<meta::Format>,
    /// Constant strings referenced by events (`time()` formats).
    pub strings: Vec<String>,
    pub diags: Diagnostics,
    /// True during the first pass: learn map signatures, report nothing.
    pub learning: bool,
    pub uses_ringbuf: bool,
    /// Whether some probe takes `kstack`/`ustack` (needs the stack trace map).
    pub uses_stacks: bool,
    /// Whether some probe reads `elapsed` (needs the start-time map).
    pub uses_start: bool,
    /// The stack trace map's id, when used.
    pub stack_map: MapId,
    /// The start-time map's id, when used.
    pub start_map: MapId,
    /// Whether some probe updates a map (failed updates are counted).
    pub uses_dropped: bool,
    /// Whether some probe calls `exit()` (needs the exited flag).
    pub uses_exit: bool,
    /// The exited flag's id, when used.
    pub exited_map: MapId,
    /// The per-map counters of dropped updates, when used.
    pub dropped_map: MapId,
    /// Bytes of the per-CPU scratch buffer for records too big for the stack (0: none).
    pub scratch_size: u32,
    /// The scratch buffer map's id, when used.
    pub scratch_map: MapId,
    /// printf calls (by format index) whose records the learning pass found too big
    /// for the stack: the emitting pass builds them in the scratch buffer.
    pub big_records: std::collections::BTreeSet<usize>,
    /// The event ring buffer's id: one past the user maps.
    pub ringbuf: MapId,
    /// The pid of the command started with `-c`, if any (`cpid`).
    pub cpid: Option<u32>,
    /// Positional parameters `$1`, `$2`, ...
    pub params: Vec<String>,
    /// Kernel and script types.
    pub types: crate::ctypes::TypeEnv,
    /// The program's macros and functions.
    pub callables: std::sync::Arc<Callables>,
    /// When set, every lowered expression's (function index, span, type), for
    /// `--dump typed`.
    pub typed: Option<Vec<(usize, Span, Type)>>,
    /// Only checking: kernel-dependent lookups that fail are warnings.
    pub check_only: bool,
    /// `--unsafe`: `system`, `signal` and `override` are allowed.
    pub allow_unsafe: bool,
    /// The source's name and text (see `Options::source`).
    pub source: Option<(String, String)>,
    /// The index of the function being lowered.
    pub function: usize,
    /// The string or tuple type each variable of each function needs to hold every
    /// value assigned to it (strings at their longest; learned in the first pass).
    pub var_types: HashMap<(usize, String), Type>,
}

/// A scratch variable's storage.
#[derive(Debug, Clone)]
enum Var {
    Scalar(VReg, Type),
    Str(SlotId, u32),
    Bytes(SlotId, Type),
    /// A struct or array in kernel or user memory: its address.
    Mem(VReg, Type, bool),
    /// The entry of a `for ($kv : @m)` loop.
    Entry(Entry),
}

/// A map entry seen by a loop body: pointers to its key and value, and their types.
#[derive(Debug, Clone)]
struct Entry {
    key: VReg,
    value: VReg,
    key_ty: Type,
    value_ty: Type,
}

impl Var {
    /// The value the variable holds (an entry is copied out by `Lower::variable`).
    fn value(&self) -> Val {
        match self {
            Var::Scalar(r, ty) => Val::Scalar(Operand::Reg(*r), ty.clone()),
            Var::Str(slot, size) => Val::Str(*slot, *size),
            Var::Bytes(slot, ty) => Val::Bytes(*slot, ty.clone()),
            Var::Mem(r, ty, user) => Val::Mem {
                addr: Operand::Reg(*r),
                ty: ty.clone(),
                user: *user,
            },
            Var::Entry(_) => Val::Void,
        }
    }
}

/// Lowers one probe body for one target.
pub struct Lower<'a> {
    pub b: FnBuilder,
    pub module: &'a mut ModuleState,
    target: &'a Target,
    ctx: VReg,
    vars: HashMap<String, Var>,
    /// Enclosing loops, innermost last: (continue target, break target).
    loops: Vec<(BlockId, BlockId)>,
    /// Macro and function expansions in progress, innermost last.
    expansions: Vec<inline::Expansion>,
    /// Bare-name macro parameters of the expansions in progress.
    macro_idents: Vec<HashMap<String, Val>>,
    /// `@m` macro parameters: the maps they stand for.
    map_aliases: HashMap<String, String>,
    /// The program's callbacks, in `Arg::Func` order.
    callbacks: Vec<crate::ir::Function>,
    /// The callback being lowered, if any.
    callback: Option<callback::Scope>,
    /// The callback every `len()` of the program shares, once made.
    len_callback: Option<u32>,
    /// The statements being lowered, innermost last (their spans mark the code).
    sources: Vec<Span>,
}

impl<'a> Lower<'a> {
    pub fn new(module: &'a mut ModuleState, target: &'a Target) -> Self {
        let mut b = FnBuilder::new();
        let ctx = b.vreg();
        b.emit(Inst::Ctx { dst: ctx });
        Lower {
            b,
            module,
            target,
            ctx,
            vars: HashMap::new(),
            loops: Vec::new(),
            expansions: Vec::new(),
            macro_idents: Vec::new(),
            map_aliases: HashMap::new(),
            callbacks: Vec::new(),
            callback: None,
            len_callback: None,
            sources: Vec::new(),
        }
    }

    /// The finished function, named `name` in `section`, with its callbacks (named
    /// after it).
    pub fn finish(self, name: String, section: String) -> crate::ir::Function {
        let mut f = self.b.build(name, section);
        f.callbacks = self.callbacks;
        for (i, callback) in f.callbacks.iter_mut().enumerate() {
            callback.name = format!("{}_cb{i}", f.name);
        }
        f
    }

    /// Lowers the predicate and body of `probe`.
    pub fn probe(&mut self, probe: &ast::Probe) {
        if self.target.ctx == crate::probes::CtxKind::Iter {
            self.skip_last_iteration();
        }
        let once = matches!(self.target.attach, meta::Attach::Begin | meta::Attach::End);
        if self.module.uses_exit && !once {
            self.skip_after_exit();
        }
        if let Some(pred) = &probe.predicate {
            let body = self.b.block();
            let skip = self.b.block();
            self.b.emit(Inst::Source { span: pred.span });
            self.cond(pred, body, skip);
            self.block(&probe.body);
            self.b.jump_to(skip);
        } else {
            self.block(&probe.body);
        }
    }

    /// Once `exit()` has run, a probe (but BEGIN, which runs first, and END) firing
    /// before the runtime detaches it does nothing, so what the program printed and counted up to `exit()` is what it
    /// reports.
    fn skip_after_exit(&mut self) {
        let flag = self.lookup_first(self.module.exited_map);
        let (set, body, skip) = (self.b.block(), self.b.block(), self.b.block());
        self.b
            .branch(crate::ir::Cmp::Ne, flag, Operand::Imm(0), set, body);
        let value = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: value,
            base: crate::ir::Base::Reg(flag),
            offset: 0,
            size: 8,
            signed: false,
        });
        self.b
            .branch(crate::ir::Cmp::Eq, value, Operand::Imm(0), body, skip);
        self.b
            .finish(crate::ir::Term::Return(Operand::Imm(0)), body);
    }

    /// An iterator's program runs once more at the end with no object (NULL at
    /// `ctx + 8`): the probe body is skipped then.
    fn skip_last_iteration(&mut self) {
        let object = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: object,
            base: crate::ir::Base::Reg(self.ctx),
            offset: 8,
            size: 8,
            signed: false,
        });
        let (body, skip) = (self.b.block(), self.b.block());
        self.b
            .branch(crate::ir::Cmp::Ne, object, Operand::Imm(0), body, skip);
        self.b.switch_to(skip);
        self.b
            .finish(crate::ir::Term::Return(Operand::Imm(0)), body);
    }

    fn error(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        if !self.module.learning && !self.module.diags.has_error_within(span) {
            self.module
                .diags
                .push(crate::error::error(message, span, label));
        }
    }

    fn warn(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        if !self.module.learning {
            let d = crate::error::warning(message, span, label);
            self.module.diags.push(d);
        }
    }

    fn fresh_block(&mut self) -> BlockId {
        self.b.block()
    }
}

/// Turns the learned map table into BPF map definitions and runtime metadata.
pub fn map_defs(state: &ModuleState) -> (Vec<MapDef>, Vec<meta::MapInfo>) {
    let mut defs = Vec::new();
    let mut infos = Vec::new();
    for sig in state.maps.values() {
        defs.push(sig.def());
        infos.push(sig.info(&state.types));
    }
    (defs, infos)
}
