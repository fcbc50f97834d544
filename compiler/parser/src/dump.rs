//! A stable, indented text form of the AST: one node per line, children indented by
//! two spaces. Spans are not printed. A probe lists how each attach point with parts
//! was split (`attach uprobe ["/bin/bash", "readline"]`). Used by `--dump ast` and
//! snapshot tests, so the format only changes deliberately.

use std::fmt::Write;

use crate::ast::*;

/// Prints `program` as an indented tree.
pub fn dump(program: &Program) -> String {
    let mut d = Dumper {
        out: String::new(),
        depth: 0,
    };
    for item in &program.items {
        d.item(item);
    }
    d.out
}

struct Dumper {
    out: String,
    depth: usize,
}

impl Dumper {
    fn line(&mut self, text: impl std::fmt::Display) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        let _ = writeln!(self.out, "{text}");
    }

    /// Prints `text`, then whatever `children` prints one level deeper.
    fn node(&mut self, text: impl std::fmt::Display, children: impl FnOnce(&mut Self)) {
        self.line(text);
        self.depth += 1;
        children(self);
        self.depth -= 1;
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Preprocessor(text) => self.line(format_args!("preprocessor {:?}", text.node)),
            Item::CDefinition(text) => self.line(format_args!("c-definition {:?}", text.node)),
            Item::Config(config) => self.node("config", |d| {
                for (key, value) in &config.entries {
                    d.node(format_args!("{} =", key.node), |d| d.expr(value));
                }
            }),
            Item::Macro(m) => {
                let params: Vec<&str> = m.params.iter().map(|p| p.node.as_str()).collect();
                self.node(
                    format_args!("macro {}({})", m.name.node, params.join(", ")),
                    |d| d.stmts(&m.body),
                );
            }
            Item::Function(f) => self.function(f),
            Item::MapDecl(decl) => self.node(
                format_args!("let {} = {}", decl.name.node, decl.kind.node),
                |d| d.exprs(&decl.args),
            ),
            Item::Probe(probe) => self.probe(probe),
        }
    }

    fn function(&mut self, f: &Function) {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(name, ty)| format!("{}: {}", name.node, type_text(ty)))
            .collect();
        let ret = f
            .ret
            .as_ref()
            .map(|t| format!(": {}", type_text(t)))
            .unwrap_or_default();
        self.node(
            format_args!("fn {}({}){ret}", f.name.node, params.join(", ")),
            |d| d.stmts(&f.body),
        );
    }

    fn probe(&mut self, probe: &Probe) {
        let names: Vec<&str> = probe.attach.iter().map(|a| a.raw.as_str()).collect();
        self.node(format_args!("probe {}", names.join(", ")), |d| {
            for point in probe.attach.iter().filter(|a| !a.parts.is_empty()) {
                d.line(format_args!("attach {} {:?}", point.provider, point.parts));
            }
            if let Some(pred) = &probe.predicate {
                d.node("predicate", |d| d.expr(pred));
            }
            d.stmts(&probe.body);
        });
    }

    fn stmts(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    fn block(&mut self, label: &str, block: &Block) {
        self.node(label, |d| d.stmts(block));
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.node("expr", |d| d.expr(e)),
            StmtKind::Let { var, ty, value } => {
                let ty = ty
                    .as_ref()
                    .map(|t| format!(": {}", type_text(t)))
                    .unwrap_or_default();
                self.node(format_args!("let {}{ty}", var.node), |d| {
                    d.opt_expr(value.as_ref())
                });
            }
            StmtKind::Assign { target, op, value } => {
                let op = op
                    .map(|op| format!(" {}=", op.symbol()))
                    .unwrap_or_default();
                self.node(format_args!("assign{op}"), |d| {
                    d.expr(target);
                    d.expr(value);
                });
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => self.node("if", |d| {
                d.expr(cond);
                d.block("then", then);
                if let Some(otherwise) = otherwise {
                    d.block("else", otherwise);
                }
            }),
            StmtKind::While { cond, body } => self.node("while", |d| {
                d.expr(cond);
                d.block("do", body);
            }),
            StmtKind::Unroll { count, body } => self.node("unroll", |d| {
                d.expr(count);
                d.block("do", body);
            }),
            StmtKind::For { var, iter, body } => self.for_loop(&var.node, iter, body),
            StmtKind::Break => self.line("break"),
            StmtKind::Continue => self.line("continue"),
            StmtKind::Return(value) => self.node("return", |d| d.opt_expr(value.as_ref())),
            StmtKind::Block(block) => self.block("block", block),
        }
    }

    fn for_loop(&mut self, var: &str, iter: &ForIter, body: &Block) {
        match iter {
            ForIter::Map(map) => self.node(format_args!("for {var} in map"), |d| {
                d.expr(map);
                d.block("do", body);
            }),
            ForIter::Range(from, to) => self.node(format_args!("for {var} in range"), |d| {
                d.expr(from);
                d.expr(to);
                d.block("do", body);
            }),
        }
    }

    fn opt_expr(&mut self, e: Option<&Expr>) {
        if let Some(e) = e {
            self.expr(e);
        }
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        for e in exprs {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int {
                value,
                suffix: Some(s),
            } => self.line(format_args!("int {value} ({s})")),
            ExprKind::Int {
                value,
                suffix: None,
            } => self.line(format_args!("int {value}")),
            ExprKind::Str(s) => self.line(format_args!("str {s:?}")),
            ExprKind::Bool(b) => self.line(format_args!("bool {b}")),
            ExprKind::Variable(v) => self.line(format_args!("var {v}")),
            ExprKind::Positional(n) => self.line(format_args!("positional ${n}")),
            ExprKind::PositionalCount => self.line("positional-count $#"),
            ExprKind::Ident(name) => self.line(format_args!("ident {name}")),
            ExprKind::Map { name, keys } => {
                self.node(format_args!("map {name}"), |d| d.exprs(keys))
            }
            ExprKind::Call { name, args } => {
                self.node(format_args!("call {}", name.node), |d| d.exprs(args))
            }
            ExprKind::Unary { op, expr } => self
                .node(format_args!("unary {}", unary_symbol(*op)), |d| {
                    d.expr(expr)
                }),
            ExprKind::Binary { op, lhs, rhs } => {
                self.node(format_args!("binary {}", op.symbol()), |d| {
                    d.expr(lhs);
                    d.expr(rhs);
                })
            }
            _ => self.compound_expr(e),
        }
    }

    fn compound_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::IncDec {
                target,
                increment,
                prefix,
            } => {
                let op = if *increment { "++" } else { "--" };
                let fix = if *prefix { "prefix" } else { "postfix" };
                self.node(format_args!("{fix} {op}"), |d| d.expr(target));
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let label = if then.is_some() {
                    "ternary"
                } else {
                    "ternary ?:"
                };
                self.node(label, |d| {
                    d.expr(cond);
                    if let Some(then) = then {
                        d.expr(then);
                    }
                    d.expr(otherwise);
                });
            }
            ExprKind::IfExpr {
                cond,
                then,
                otherwise,
            } => self.node("if-expr", |d| {
                d.expr(cond);
                d.block("then", then);
                d.block("else", otherwise);
            }),
            ExprKind::Field { expr, field, arrow } => {
                let sep = if *arrow { "->" } else { "." };
                self.node(format_args!("field {sep}{}", field.node), |d| d.expr(expr));
            }
            ExprKind::TupleIndex { expr, index } => {
                self.node(format_args!("tuple-index .{index}"), |d| d.expr(expr))
            }
            ExprKind::Index { expr, index } => self.node("index", |d| {
                d.expr(expr);
                d.expr(index);
            }),
            ExprKind::Cast { ty, expr } => {
                self.node(format_args!("cast ({})", type_text(ty)), |d| d.expr(expr))
            }
            _ => self.aggregate_expr(e),
        }
    }

    fn aggregate_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Tuple(items) => self.node("tuple", |d| d.exprs(items)),
            ExprKind::Record(fields) => self.node("record", |d| {
                for (name, value) in fields {
                    d.node(format_args!("{} =", name.node), |d| d.expr(value));
                }
            }),
            ExprKind::SizeOf(arg) => match arg.as_ref() {
                SizeOfArg::Type(ty) => self.line(format_args!("sizeof ({})", type_text(ty))),
                SizeOfArg::Expr(e) => self.node("sizeof", |d| d.expr(e)),
            },
            ExprKind::OffsetOf { ty, fields } => {
                let path: Vec<&str> = fields.iter().map(|f| f.node.as_str()).collect();
                self.line(format_args!(
                    "offsetof ({}) {}",
                    type_text(ty),
                    path.join(".")
                ));
            }
            ExprKind::Block(block) => self.block("block", block),
            _ => self.line("?"),
        }
    }
}

fn unary_symbol(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "-",
        UnaryOp::Not => "!",
        UnaryOp::BitNot => "~",
        UnaryOp::Deref => "*",
        UnaryOp::AddrOf => "&",
    }
}

/// A type as C would write it: `struct task_struct *`, `char **`, `string[16]`.
pub fn type_text(ty: &TypeExpr) -> String {
    match &ty.kind {
        TypeKind::Named(name) => name.clone(),
        TypeKind::Tagged { keyword, name } => format!("{keyword} {name}"),
        TypeKind::Pointer(inner) => match type_text(inner) {
            t if t.ends_with('*') => format!("{t}*"),
            t => format!("{t} *"),
        },
        TypeKind::Array(inner, 0) => format!("{}[]", type_text(inner)),
        TypeKind::Array(inner, n) => format!("{}[{n}]", type_text(inner)),
        TypeKind::Tuple(items) if items.len() == 1 => format!("({},)", type_text(&items[0])),
        TypeKind::Tuple(items) => {
            let items: Vec<String> = items.iter().map(type_text).collect();
            format!("({})", items.join(", "))
        }
    }
}
