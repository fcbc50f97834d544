//! The direct backend: IR to eBPF instructions without LLVM.
//!
//! Per function: clean up a copy of the IR, order the reachable blocks, allocate
//! registers, select instructions.

pub mod frame;
pub mod insn;
pub mod opt;
pub mod regalloc;
pub mod select;

use crate::spec::{ObjectSpec, ProgramSpec};
use crate::CodegenError;
use ebpfc_compiler::ir::{BlockId, Function, Module};
use insn::Insn;

/// One function's final instructions.
pub struct Program {
    pub name: String,
    pub section: String,
    pub insns: Vec<Insn>,
    pub map_relocs: Vec<(usize, String)>,
}

/// Compiles every function of the module.
pub fn compile(module: &Module) -> Result<Vec<Program>, CodegenError> {
    module
        .functions
        .iter()
        .map(|f| function(module, f))
        .collect()
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

/// The object spec for compiled programs.
pub fn object_spec(module: &Module, programs: Vec<Program>) -> ObjectSpec {
    let programs = programs
        .into_iter()
        .map(|p| ProgramSpec {
            name: p.name,
            section: p.section,
            code: p.insns.iter().flat_map(Insn::encode).collect(),
            map_relocs: p.map_relocs,
        })
        .collect();
    ObjectSpec::for_module(module, programs)
}
