//! The direct backend against the IR it starts from, without a kernel: for every program
//! of a corpus (the snapshot cases, the benchmark programs and examples that compile
//! against the committed fixtures, and programs aimed at the optimizations), the unoptimized IR is interpreted as
//! the reference, and both the optimized IR and the emitted instructions must show the
//! world the same helper calls, stores and return value, over many seeds of helper
//! results (null and non-null lookups, error codes, buffer contents).

mod corpus;
mod interp;

use corpus::corpus;
use ebpfc_compiler::ir::{Function, Module};
use interp::{ebpf, ir, World};
use std::collections::HashMap;

const SEEDS: u64 = 24;
const MAX_STEPS: usize = 200_000;

/// Which function of a module: a program, or one of its callbacks.
#[derive(Clone, Copy)]
struct Which {
    program: usize,
    callback: Option<usize>,
}

/// Every function of `module`: each program, then its callbacks.
fn functions(module: &Module) -> Vec<(Which, &Function)> {
    let mut out = Vec::new();
    for (program, f) in module.functions.iter().enumerate() {
        out.push((
            Which {
                program,
                callback: None,
            },
            f,
        ));
        for (c, cb) in f.callbacks.iter().enumerate() {
            let which = Which {
                program,
                callback: Some(c),
            };
            out.push((which, cb));
        }
    }
    out
}

/// Runs `check` on every function of the corpus with every seed where the reference
/// finishes; returns the number of runs, panicking with every failure.
fn each_run(
    check: impl Fn(&Module, Which, &Function, &[interp::Event], u64) -> Result<(), String>,
) -> usize {
    let (mut failures, mut runs) = (Vec::new(), 0);
    for (name, module) in corpus() {
        for (which, f) in functions(&module) {
            for seed in 0..SEEDS {
                let Some(events) = ir::run(f, &mut World::new(seed), MAX_STEPS) else {
                    continue;
                };
                runs += 1;
                if let Err(e) = check(&module, which, f, &events, seed) {
                    failures.push(format!("{name}/{} (seed {seed}): {e}", f.name));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    runs
}

#[test]
fn optimized_ir_does_what_the_ir_does() {
    let runs = each_run(|_, _, f, events, seed| {
        let optimized = ebpfc_codegen::bytecode::opt::optimize(f);
        match ir::run(&optimized, &mut World::new(seed), MAX_STEPS) {
            Some(seen) if seen == events => Ok(()),
            seen => Err(format!("expected {events:?}\nsaw {seen:?}")),
        }
    });
    assert!(runs > 500, "only {runs} runs");
}

#[test]
fn emitted_code_does_what_the_ir_does() {
    let runs = each_run(|module, which, _, events, seed| {
        let programs = ebpfc_codegen::bytecode::compile(module).map_err(|e| e.to_string())?;
        let index: HashMap<&str, u32> = module
            .maps
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.as_str(), i as u32))
            .collect();
        let program = &programs[which.program];
        let p = match which.callback {
            Some(c) => &program.callbacks[c],
            None => program,
        };
        let refs = ebpf::Refs {
            maps: p
                .map_relocs
                .iter()
                .map(|(at, n)| (*at, index[n.as_str()]))
                .collect(),
            funcs: p.func_relocs.iter().copied().collect(),
        };
        ebpf::run(
            &p.insns,
            &refs,
            events,
            &mut World::new(seed),
            MAX_STEPS * 8,
        )
    });
    assert!(runs > 500, "only {runs} runs");
}
