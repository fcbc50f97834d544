//! Macros and user functions, expanded in place at each call: a macro's parameters are
//! bound to its arguments (bare names and `$x` to values, `@m` to the map passed), a
//! function's to its typed arguments in a scope of its own, and `return e` jumps to the
//! end of the expansion with its value. Block expressions `{ ...; e }` live here too.

use super::{Lower, Val, Var};
use crate::ir::{BlockId, Term};
use ebpfc_parser::ast::{Block, Expr, ExprKind, Function, Macro, StmtKind};
use ebpfc_parser::span::Span;
use std::collections::HashMap;

/// How deep expansions may nest (recursion is an error, not a loop).
const MAX_DEPTH: usize = 16;

/// The macros and functions a program defines.
#[derive(Default, Clone)]
pub struct Callables {
    pub macros: HashMap<String, Macro>,
    pub functions: HashMap<String, Function>,
}

/// One expansion in progress: where `return` goes and the variable holding its value.
pub(super) struct Expansion {
    exit: BlockId,
    result: String,
}

impl Lower<'_> {
    /// A call of a script macro or function; `None` when `name` is neither.
    pub(super) fn user_call(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Val> {
        let callables = std::sync::Arc::clone(&self.module.callables);
        let (m, f) = (callables.macros.get(name), callables.functions.get(name));
        if m.is_none() && f.is_none() {
            return None;
        }
        if self.expansions.len() >= MAX_DEPTH {
            let msg = format!("{name}() calls itself (directly or not); recursion is not allowed");
            self.error(msg, span, "recursive call");
            return Some(Val::zero());
        }
        Some(match (m, f) {
            (Some(m), _) => self.expand_macro(m, args, span),
            (_, Some(f)) => self.call_function(f, args, span),
            _ => Val::zero(),
        })
    }

    fn arity_matches(&mut self, name: &str, want: usize, got: usize, span: Span) -> bool {
        if want != got {
            let msg = format!("{name}() takes {want} argument(s), got {got}");
            self.error(msg, span, "in this call");
        }
        want == got
    }

    fn expand_macro(&mut self, m: &Macro, args: &[Expr], span: Span) -> Val {
        if !self.arity_matches(&m.name.node, m.params.len(), args.len(), span) {
            return Val::zero();
        }
        let mut idents = HashMap::new();
        let mut saved_maps = Vec::new();
        let mut saved_vars = Vec::new();
        for (param, arg) in m.params.iter().zip(args) {
            let p = param.node.as_str();
            if p.starts_with('@') {
                let ExprKind::Map { name, keys } = &arg.kind else {
                    self.error(format!("{p} needs a map argument"), arg.span, "not a map");
                    continue;
                };
                let target = self.map_name(name);
                let _ = keys;
                saved_maps.push((
                    p.to_string(),
                    self.map_aliases.insert(p.to_string(), target),
                ));
            } else if p.starts_with('$') {
                let v = self.expr(arg);
                saved_vars.push((p.to_string(), self.vars.remove(p)));
                self.assign_var(p, v, arg.span);
            } else {
                let v = self.expr(arg);
                idents.insert(p.to_string(), v);
            }
        }
        self.macro_idents.push(idents);
        let value = self.expansion(&m.body, span);
        self.macro_idents.pop();
        for (p, old) in saved_maps {
            match old {
                Some(o) => self.map_aliases.insert(p, o),
                None => self.map_aliases.remove(&p),
            };
        }
        for (p, old) in saved_vars {
            self.vars.remove(&p);
            if let Some(old) = old {
                self.vars.insert(p, old);
            }
        }
        value
    }

    fn call_function(&mut self, f: &Function, args: &[Expr], span: Span) -> Val {
        if !self.arity_matches(&f.name.node, f.params.len(), args.len(), span) {
            return Val::zero();
        }
        let vals: Vec<Val> = args.iter().map(|a| self.expr(a)).collect();
        let outer: HashMap<String, Var> = std::mem::take(&mut self.vars);
        for ((param, ty), (v, arg)) in f.params.iter().zip(vals.into_iter().zip(args)) {
            let v = match self.resolve_type(ty) {
                Some(t @ crate::types::Type::Int { .. }) => self.convert_int(v, &t),
                _ => v,
            };
            self.assign_var(&param.node, v, arg.span);
        }
        let value = self.expansion(&f.body, span);
        self.vars = outer;
        value
    }

    /// Lowers `body` with `return` jumping to its end; the value is the returned one,
    /// or the value of a final expression statement.
    fn expansion(&mut self, body: &Block, span: Span) -> Val {
        let exit = self.fresh_block();
        let result = format!("$\u{0}ret{}", self.expansions.len());
        self.expansions.push(Expansion {
            exit,
            result: result.clone(),
        });
        let last = self.block_with_value(body);
        if let Some(v) = last {
            self.assign_var(&result, v, span);
        }
        self.b.jump_to(exit);
        self.expansions.pop();
        self.vars.remove(&result).map_or(Val::Void, |v| v.value())
    }

    /// Lowers a block; if it ends in an expression statement, that expression's value.
    pub(super) fn block_with_value(&mut self, body: &Block) -> Option<Val> {
        let (last, init) = body.stmts.split_last()?;
        for stmt in init {
            self.stmt(stmt);
        }
        match &last.kind {
            StmtKind::Expr(e) if !matches!(e.kind, ExprKind::IncDec { .. }) => Some(self.expr(e)),
            _ => {
                self.stmt(last);
                None
            }
        }
    }

    /// `return [e]`: inside an expansion, leaves it with the value; elsewhere ends the
    /// probe.
    pub(super) fn return_stmt(&mut self, value: Option<&Expr>, span: Span) {
        if self.return_leaves_callback() {
            let msg = "'return' statement is not allowed in a for-loop over a map";
            self.error(msg, span, "inside the loop body");
            return;
        }
        let Some(Expansion { exit, result }) = self.expansions.last() else {
            let next = self.fresh_block();
            self.b
                .finish(Term::Return(crate::ir::Operand::Imm(0)), next);
            return;
        };
        let (exit, result) = (*exit, result.clone());
        if let Some(e) = value {
            let v = self.expr(e);
            self.assign_var(&result, v, span);
        }
        let next = self.fresh_block();
        self.b.finish(Term::Jump(exit), next);
    }

    /// A bare identifier bound by the innermost macro expansion.
    pub(super) fn macro_ident(&self, name: &str) -> Option<Val> {
        self.macro_idents.last()?.get(name).cloned()
    }

    /// The map a name refers to inside macro expansions (`@m` parameters).
    pub(super) fn map_name(&self, name: &str) -> String {
        self.map_aliases
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }
}
