//! The direct backend: IR to eBPF instructions without LLVM.
//!
//! Per function: clean up a copy of the IR, order the reachable blocks, allocate
//! registers, select instructions. A program's callbacks are compiled the same way, each
//! its own function with its own frame; the kernel counts the frames of a program and of
//! the callbacks it passes together against the 512-byte stack, and so does [`compile`].

pub mod frame;
pub mod insn;
pub mod opt;
pub mod regalloc;
pub mod select;

use crate::spec::{ObjectSpec, ProgramSpec};
use crate::CodegenError;
use ebpfc_compiler::ir::{BlockId, Function, Module, SourceSpan};
use insn::Insn;
use select::STACK_LIMIT;

/// The kernel rounds each frame of a call chain up to this many bytes (with the JIT).
const FRAME_ROUNDING: u32 = 16;

/// One function's final instructions.
pub struct Program {
    pub name: String,
    pub section: String,
    pub insns: Vec<Insn>,
    pub map_relocs: Vec<(usize, String)>,
    /// `ld_imm64` instructions loading a callback's address: (index, index into the
    /// program's `callbacks`).
    pub func_relocs: Vec<(usize, u32)>,
    /// Bytes of stack the function uses.
    pub stack: u32,
    /// (first instruction, source span) of each statement's instructions.
    pub lines: Vec<(usize, SourceSpan)>,
    /// Jumps to an earlier instruction (the ends of loops), by index.
    pub back_edges: Vec<usize>,
    /// A program's callbacks (empty for a callback).
    pub callbacks: Vec<Program>,
}

/// Compiles every function of the module.
pub fn compile(module: &Module) -> Result<Vec<Program>, CodegenError> {
    module
        .functions
        .iter()
        .map(|f| program(module, f))
        .collect()
}

/// A program and its callbacks.
fn program(module: &Module, f: &Function) -> Result<Program, CodegenError> {
    let mut program = function(module, f)?;
    program.callbacks = f
        .callbacks
        .iter()
        .map(|c| function(module, c))
        .collect::<Result<_, _>>()?;
    let depth = stack_depth(&program, &program, 0);
    if depth > STACK_LIMIT as u32 {
        return Err(CodegenError::User(format!(
            "probe '{}' and the for-loop bodies it runs need {depth} bytes of stack together but eBPF allows {STACK_LIMIT}; use fewer or shorter strings, tuples or printf arguments in the loop bodies or the probe",
            program.name
        )));
    }
    Ok(program)
}

/// The stack the kernel counts for `f` (of `program`) and the deepest chain of
/// callbacks it passes on.
fn stack_depth(program: &Program, f: &Program, level: usize) -> u32 {
    let own = f.stack.max(1).div_ceil(FRAME_ROUNDING) * FRAME_ROUNDING;
    if level > program.callbacks.len() {
        return own;
    }
    let callees = f
        .func_relocs
        .iter()
        .filter_map(|(_, n)| program.callbacks.get(*n as usize));
    own + callees
        .map(|c| stack_depth(program, c, level + 1))
        .max()
        .unwrap_or(0)
}

fn function(module: &Module, f: &Function) -> Result<Program, CodegenError> {
    let f = &opt::optimize(f);
    let order = reachable(f);
    let alloc = regalloc::allocate(f, &order);
    let selected = select::select(f, &order, &alloc)?;
    let map_relocs = selected
        .map_relocs
        .into_iter()
        .map(|(at, id)| {
            let map = module
                .maps
                .get(id.0 as usize)
                .ok_or_else(|| CodegenError::Bug(format!("map id {} out of range", id.0)))?;
            Ok((at, map.name.clone()))
        })
        .collect::<Result<_, CodegenError>>()?;
    Ok(Program {
        name: f.name.clone(),
        section: f.section.clone(),
        insns: selected.insns,
        map_relocs,
        func_relocs: selected.func_relocs,
        stack: selected.stack,
        lines: selected.lines,
        back_edges: selected.back_edges,
        callbacks: Vec::new(),
    })
}

/// Blocks reachable from the entry in reverse postorder, a branch's `then` block right
/// after it: only real loops jump backwards, so slot lifetimes stay short.
pub(crate) fn reachable(f: &Function) -> Vec<BlockId> {
    let mut seen = vec![false; f.blocks.len()];
    let mut post = Vec::with_capacity(f.blocks.len());
    // (block, successors still to visit, in visiting order)
    let mut stack: Vec<(BlockId, Vec<BlockId>)> = Vec::new();
    let enter = |b: BlockId, seen: &mut Vec<bool>, stack: &mut Vec<(BlockId, Vec<BlockId>)>| {
        seen[b.0 as usize] = true;
        stack.push((b, f.blocks[b.0 as usize].term.successors()));
    };
    enter(BlockId(0), &mut seen, &mut stack);
    while let Some((b, succs)) = stack.last_mut() {
        match succs.pop() {
            Some(next) if !seen[next.0 as usize] => enter(next, &mut seen, &mut stack),
            Some(_) => {}
            None => {
                post.push(*b);
                stack.pop();
            }
        }
    }
    post.reverse();
    post
}

/// The object spec for compiled programs; the metadata gets each program's source
/// lines.
pub fn object_spec(module: &Module, programs: Vec<Program>) -> ObjectSpec {
    let mut specs = Vec::with_capacity(programs.len());
    let mut callbacks = Vec::new();
    let mut meta = module.meta.clone();
    for probe in &mut meta.probes {
        if let Some(p) = programs.iter().find(|p| p.name == probe.program) {
            probe.lines = line_table(p);
            probe.loops = p.back_edges.iter().map(|&i| i as u32).collect();
        }
    }
    for mut p in programs {
        let names: Vec<String> = p.callbacks.iter().map(|c| c.name.clone()).collect();
        for c in std::mem::take(&mut p.callbacks) {
            callbacks.push(spec_of(c, &names));
        }
        specs.push(spec_of(p, &names));
    }
    let mut spec = ObjectSpec::for_module(module, specs, callbacks);
    spec.metadata = meta.to_bytes();
    spec
}

/// The metadata's line table of `p`: its marks, then the end of its instructions.
fn line_table(p: &Program) -> Vec<[u32; 3]> {
    let marks = p.lines.iter().map(|(at, s)| [*at as u32, s.start, s.end]);
    marks.chain([[p.insns.len() as u32, 0, 0]]).collect()
}

/// The spec of one compiled function; `callbacks` names its program's callbacks.
fn spec_of(p: Program, callbacks: &[String]) -> ProgramSpec {
    let func_relocs = p
        .func_relocs
        .iter()
        .filter_map(|(at, n)| Some((*at, callbacks.get(*n as usize)?.clone())))
        .collect();
    ProgramSpec {
        name: p.name,
        section: p.section,
        code: p.insns.iter().flat_map(Insn::encode).collect(),
        map_relocs: p.map_relocs,
        func_relocs,
    }
}
