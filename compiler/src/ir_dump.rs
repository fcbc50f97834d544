//! The textual form of the IR printed by `--dump ir` and the snapshot tests.

use crate::ir::{Arg, Function, Inst, Module, Term};
use std::fmt::Write;

/// Renders a whole module: maps, then every function's blocks.
pub fn dump(module: &Module) -> String {
    let mut out = String::new();
    for m in &module.maps {
        let _ = writeln!(
            out,
            "map {}: type {} key {} value {} max {}",
            m.name, m.map_type, m.key_size, m.value_size, m.max_entries
        );
    }
    for f in &module.functions {
        dump_function(&mut out, f);
    }
    out
}

fn dump_function(out: &mut String, f: &Function) {
    let _ = writeln!(out, "\nfn {} [{}]", f.name, f.section);
    for (i, s) in f.slots.iter().enumerate() {
        let _ = writeln!(out, "  slot{i}: {} bytes", s.size);
    }
    for (i, b) in f.blocks.iter().enumerate() {
        let _ = writeln!(out, "bb{i}:");
        // Source marks emit no code; the dump shows only what does.
        for inst in b.insts.iter().filter(|i| !matches!(i, Inst::Source { .. })) {
            let _ = writeln!(out, "  {}", inst_text(inst, &|m| m.0));
        }
        let _ = writeln!(out, "  {}", term_text(&b.term));
    }
    for callback in &f.callbacks {
        dump_function(out, callback);
    }
}

fn inst_text(inst: &Inst, map_index: &dyn Fn(&crate::ir::MapId) -> u32) -> String {
    match inst {
        Inst::Ctx { dst } => format!("{dst} = ctx"),
        Inst::Param { dst, index } => format!("{dst} = param {index}"),
        Inst::Mov { dst, src } => format!("{dst} = {src}"),
        Inst::Alu { dst, op, lhs, rhs } => format!("{dst} = {op:?} {lhs}, {rhs}").to_lowercase(),
        Inst::Neg { dst, src } => format!("{dst} = neg {src}"),
        Inst::Ext {
            dst,
            src,
            size,
            signed,
        } => {
            format!(
                "{dst} = {}ext{} {src}",
                if *signed { "s" } else { "z" },
                size * 8
            )
        }
        Inst::Set {
            dst,
            cond,
            lhs,
            rhs,
        } => format!("{dst} = {cond:?} {lhs}, {rhs}").to_lowercase(),
        Inst::Load {
            dst,
            base,
            offset,
            size,
            signed,
        } => {
            let s = if *signed { "s" } else { "u" };
            format!("{dst} = load.{s}{} [{base} + {offset}]", size * 8)
        }
        Inst::Store {
            base,
            offset,
            size,
            value,
        } => {
            format!("store.{} [{base} + {offset}], {value}", size * 8)
        }
        Inst::Source { span } => format!("source {}..{}", span.start, span.end),
        Inst::Call {
            dst, name, args, ..
        } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match a {
                    Arg::Val(v) => v.to_string(),
                    Arg::Slot(s, off) => format!("&slot{}+{off}", s.0),
                    Arg::Map(m) => format!("map{}", map_index(m)),
                    Arg::Func(n) => format!("callback{n}"),
                })
                .collect();
            let lhs = dst.map(|d| format!("{d} = ")).unwrap_or_default();
            format!("{lhs}call {name}({})", args.join(", "))
        }
    }
}

fn term_text(term: &Term) -> String {
    match term {
        Term::Jump(b) => format!("jump bb{}", b.0),
        Term::Branch {
            cond,
            lhs,
            rhs,
            then,
            otherwise,
        } => format!(
            "if {cond:?} {lhs}, {rhs} then bb{} else bb{}",
            then.0, otherwise.0
        )
        .to_lowercase(),
        Term::Return(v) => format!("return {v}"),
    }
}
