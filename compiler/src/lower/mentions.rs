//! What a block mentions, for the callbacks it is lowered into: the variables (`$x`) and
//! bare identifiers it names, the variables it assigns, and whether it may end the probe
//! (`exit()`). The bodies of the macros and functions it calls are looked into as well
//! (each once), so the answer is a superset of what lowering the block will use.

use super::inline::Callables;
use ebpfc_parser::ast::{Block, Expr, ExprKind, ForIter, SizeOfArg, Stmt, StmtKind};
use std::collections::BTreeSet;

/// The names a block uses and whether it may call `exit()`.
#[derive(Debug, Default)]
pub(super) struct Mentions {
    /// `$x` variables and bare identifiers (macro arguments, builtins).
    pub names: BTreeSet<String>,
    /// The variables assigned (`=`, compound assignments, `++`/`--`, `let`, loop
    /// variables).
    pub assigned: BTreeSet<String>,
    /// Whether `exit()` may run.
    pub exits: bool,
}

/// What `block` mentions, looking through the calls of `callables`.
pub(super) fn of_block(block: &Block, callables: &Callables) -> Mentions {
    let mut walker = Walker {
        callables,
        out: Mentions::default(),
        expanded: BTreeSet::new(),
    };
    walker.block(block);
    walker.out
}

struct Walker<'a> {
    callables: &'a Callables,
    out: Mentions,
    /// Macros and functions already looked into.
    expanded: BTreeSet<String>,
}

impl Walker<'_> {
    fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Let { var, value, .. } => {
                self.assign(&var.node);
                self.exprs(value.iter());
            }
            StmtKind::Assign { target, value, .. } => {
                self.assigned_target(target);
                self.exprs([target, value]);
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.block(then);
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            StmtKind::While { cond: e, body } | StmtKind::Unroll { count: e, body } => {
                self.expr(e);
                self.block(body);
            }
            StmtKind::For { var, iter, body } => {
                self.assign(&var.node);
                match iter {
                    ForIter::Map(e) => self.expr(e),
                    ForIter::Range(from, to) => self.exprs([from, to]),
                }
                self.block(body);
            }
            StmtKind::Return(value) => self.exprs(value.iter()),
            StmtKind::Block(b) => self.block(b),
            StmtKind::Break | StmtKind::Continue => {}
        }
    }

    fn exprs<'e>(&mut self, exprs: impl IntoIterator<Item = &'e Expr>) {
        for e in exprs {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Variable(name) | ExprKind::Ident(name) => {
                self.out.names.insert(name.clone());
            }
            ExprKind::Map { keys, .. } => self.exprs(keys),
            ExprKind::Call { name, args } => {
                self.call(&name.node);
                self.exprs(args);
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Field { expr, .. }
            | ExprKind::TupleIndex { expr, .. }
            | ExprKind::Cast { expr, .. } => self.expr(expr),
            ExprKind::Binary { lhs, rhs, .. } => self.exprs([lhs.as_ref(), rhs.as_ref()]),
            ExprKind::IncDec { target, .. } => {
                self.assigned_target(target);
                self.expr(target);
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                self.exprs([cond.as_ref(), otherwise.as_ref()]);
                self.exprs(then.iter().map(|t| t.as_ref()));
            }
            ExprKind::IfExpr {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.block(then);
                self.block(otherwise);
            }
            ExprKind::Index { expr, index } => self.exprs([expr.as_ref(), index.as_ref()]),
            ExprKind::Tuple(elems) => self.exprs(elems),
            ExprKind::Record(fields) => self.exprs(fields.iter().map(|(_, e)| e)),
            ExprKind::SizeOf(arg) => {
                if let SizeOfArg::Expr(e) = arg.as_ref() {
                    self.expr(e);
                }
            }
            ExprKind::Block(b) => self.block(b),
            ExprKind::Int { .. }
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Positional(_)
            | ExprKind::PositionalCount
            | ExprKind::OffsetOf { .. } => {}
        }
    }

    fn assign(&mut self, name: &str) {
        self.out.names.insert(name.to_string());
        self.out.assigned.insert(name.to_string());
    }

    /// The variable an assignment or increment writes, if it writes one.
    fn assigned_target(&mut self, target: &Expr) {
        if let ExprKind::Variable(name) = &target.kind {
            self.assign(name);
        }
    }

    /// A call of `name`: `exit`, or a macro or function whose body is looked into.
    fn call(&mut self, name: &str) {
        if name == "exit" {
            self.out.exits = true;
        }
        if !self.expanded.insert(name.to_string()) {
            return;
        }
        let callables = self.callables;
        if let Some(m) = callables.macros.get(name) {
            self.block(&m.body);
        }
        if let Some(f) = callables.functions.get(name) {
            self.block(&f.body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mentions(source: &str) -> Mentions {
        let program = ebpfc_parser::parse(source).expect("parses");
        let mut callables = Callables::default();
        let mut body = None;
        for item in &program.items {
            match item {
                ebpfc_parser::ast::Item::Macro(m) => {
                    callables.macros.insert(m.name.node.clone(), m.clone());
                }
                ebpfc_parser::ast::Item::Probe(p) => body = Some(p.body.clone()),
                _ => {}
            }
        }
        of_block(&body.expect("a probe"), &callables)
    }

    #[test]
    fn names_come_from_every_statement_and_called_macro() {
        let m = mentions(
            r#"macro twice(x) { x + $outer } BEGIN { $a = 1; if ($b) { @m[$c] = twice(pid); } while ($d < 3) { $d++; } }"#,
        );
        let names: Vec<&str> = m.names.iter().map(String::as_str).collect();
        assert_eq!(names, ["$a", "$b", "$c", "$d", "$outer", "pid", "x"]);
        let assigned: Vec<&str> = m.assigned.iter().map(String::as_str).collect();
        assert_eq!(assigned, ["$a", "$d"]);
        assert!(!m.exits);
    }

    #[test]
    fn assignments_inside_macros_and_loops_count() {
        let m = mentions(
            "macro bump() { $n += 1 } BEGIN { bump(); let $l = 1; for ($i : 0..3) { $t--; } @m[$r] = 1; }",
        );
        let assigned: Vec<&str> = m.assigned.iter().map(String::as_str).collect();
        assert_eq!(assigned, ["$i", "$l", "$n", "$t"]);
    }

    #[test]
    fn exit_is_found_inside_macros() {
        assert!(mentions("macro stop() { exit() } BEGIN { if (1) { stop(); } }").exits);
        assert!(mentions("BEGIN { exit(); }").exits);
        assert!(!mentions("BEGIN { printf(\"exit\"); }").exits);
    }
}
