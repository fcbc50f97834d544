//! Statements: blocks, assignments to variables and maps (plain, compound, increments),
//! aggregating map assignments, `if`/`else`, and expression statements.

use super::{Lower, Val, Var};
use crate::ir::{Base, Inst, Term};
use crate::types::Type;
use ebpfc_parser::ast::{
    BinOp, Block, Expr, ExprKind, ForIter, Stmt, StmtKind, TypeExpr, TypeKind,
};
use ebpfc_parser::span::Span;

impl Lower<'_> {
    pub(super) fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    /// Lowers `stmt`, marking its code with its span (and the code of the enclosing
    /// statement that follows with that statement's).
    pub(super) fn stmt(&mut self, stmt: &Stmt) {
        let span = head(stmt);
        self.sources.push(span);
        self.b.emit(Inst::Source { span });
        self.stmt_kind(stmt);
        self.sources.pop();
        if let Some(&outer) = self.sources.last() {
            self.b.emit(Inst::Source { span: outer });
        }
    }

    fn stmt_kind(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr_stmt(e),
            StmtKind::Assign { target, op, value } => self.assign(target, *op, value, stmt.span),
            StmtKind::Let {
                var,
                value: Some(value),
                ty,
            } => {
                let v = self.expr(value);
                let v = match ty {
                    Some(t) => self.declared(v, t, value.span),
                    None => v,
                };
                self.assign_var(&var.node, v, stmt.span);
            }
            StmtKind::Let { .. } => {}
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => self.if_stmt(cond, then, otherwise.as_ref()),
            StmtKind::Block(b) => self.block(b),
            StmtKind::While { cond, body } => self.while_loop(cond, body),
            StmtKind::Unroll { count, body } => self.unroll(count, body),
            StmtKind::For {
                var,
                iter: ForIter::Range(from, to),
                body,
            } => self.for_range(&var.node, from, to, body, stmt.span),
            StmtKind::For {
                var,
                iter: ForIter::Map(map),
                body,
            } => self.for_map(&var.node, map, body),
            StmtKind::Break | StmtKind::Continue => {
                self.loop_exit(matches!(stmt.kind, StmtKind::Break), stmt.span)
            }
            StmtKind::Return(value) => self.return_stmt(value.as_ref(), stmt.span),
        }
    }

    /// `v` as a `let` declares it: converted to an integer type, or checked to be a
    /// string for `string` and `string[N]`.
    fn declared(&mut self, v: Val, ty: &TypeExpr, span: Span) -> Val {
        let string = match &ty.kind {
            TypeKind::Named(name) => name == "string",
            TypeKind::Array(elem, _) => matches!(&elem.kind, TypeKind::Named(n) if n == "string"),
            _ => false,
        };
        if !string {
            return match self.resolve_type(ty) {
                Some(t) => self.convert_int(v, &t),
                None => v,
            };
        }
        if !matches!(v.ty(), Type::Str { .. }) {
            let found = v.ty();
            self.error(
                format!("a string variable cannot hold {found}"),
                span,
                "not a string",
            );
        }
        v
    }

    fn expr_stmt(&mut self, e: &Expr) {
        if let ExprKind::IncDec {
            target, increment, ..
        } = &e.kind
        {
            let delta = if *increment { BinOp::Add } else { BinOp::Sub };
            return self.step(target, delta, e.span);
        }
        self.expr(e);
    }

    fn if_stmt(&mut self, cond: &Expr, then: &Block, otherwise: Option<&Block>) {
        let (t, f, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.cond(cond, t, f);
        self.block(then);
        self.b.finish(Term::Jump(done), f);
        if let Some(b) = otherwise {
            self.block(b);
        }
        self.b.jump_to(done);
    }

    pub(super) fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr, span: Span) {
        self.assign_as(target, op, value, span, true);
    }

    /// `target++`/`target--` (`step` is `+ 1` or `- 1`): a narrow variable wraps.
    pub(super) fn step(&mut self, target: &Expr, op: BinOp, span: Span) {
        let one = Expr {
            kind: ExprKind::Int {
                value: 1,
                suffix: None,
            },
            span,
        };
        self.assign_as(target, Some(op), &one, span, false);
    }

    /// [`Self::assign`]; `keep_narrow` ignores a wider integer assigned to a narrow
    /// variable (see [`Self::widens`]).
    fn assign_as(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
        keep_narrow: bool,
    ) {
        if let (ExprKind::Map { name, keys }, None, ExprKind::Call { name: func, args }) =
            (&target.kind, op, &value.kind)
        {
            let kind = ebpfc_stdlib::catalogue::function(&func.node).map(|f| f.kind);
            if kind == Some(ebpfc_stdlib::catalogue::Kind::Aggregation) {
                return self.aggregate(&self.map_name(name), keys, &func.node, args, span);
            }
        }
        let v = match op {
            None => self.expr(value),
            Some(op) => {
                let combined = Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(target.clone()),
                        rhs: Box::new(value.clone()),
                    },
                    span,
                };
                self.expr(&combined)
            }
        };
        match &target.kind {
            ExprKind::Variable(name) if keep_narrow && self.widens(name, &v) => {
                let held = v.ty();
                let msg = format!(
                    "this assignment does nothing: {name} holds a narrower integer than {held}, as in bpftrace 0.17; cast the value to the variable's type"
                );
                self.warn(msg, span, "ignored");
            }
            ExprKind::Variable(name) => self.assign_var(name, v, span),
            ExprKind::Map { name, keys } => self.assign_map(&self.map_name(name), keys, v, span),
            // `_ = e;` evaluates `e` and discards its value.
            ExprKind::Ident(name) if name == "_" && op.is_none() => {}
            _ => self.error(
                "this cannot be assigned to",
                target.span,
                "not a variable or map",
            ),
        }
    }

    /// Whether `v` is an integer wider than the narrow integer variable `name` holds:
    /// bpftrace 0.17 leaves such a variable as it is (`$x = (uint8)5; $x = $x + 1;`
    /// keeps 5), while `$x++` changes it.
    fn widens(&self, name: &str, v: &Val) -> bool {
        let Some(Var::Scalar(_, Type::Int { size, .. })) = self.vars.get(name) else {
            return false;
        };
        let wider = v.ty().int_parts().is_some_and(|(from, _)| from > *size);
        matches!(v, Val::Scalar(..)) && wider
    }

    /// `$x = v`: the first assignment fixes the variable's type.
    pub(super) fn assign_var(&mut self, name: &str, v: Val, span: Span) {
        let wanted = self.learn_var_type(name, &v);
        match (self.vars.get(name).cloned(), v) {
            (None, Val::Scalar(op, ty)) => {
                let r = self.copy_reg(op);
                self.vars.insert(name.to_string(), Var::Scalar(r, ty));
            }
            (None, Val::Mem { addr, ty, user }) => {
                let r = self.copy_reg(addr);
                self.vars.insert(name.to_string(), Var::Mem(r, ty, user));
            }
            (Some(Var::Mem(r, ty, _)), Val::Mem { addr, ty: from, .. }) if ty == from => {
                self.b.emit(Inst::Mov { dst: r, src: addr });
            }
            (None, Val::Str(slot, size)) => {
                let longest = match wanted {
                    Some(Type::Str { size }) => size,
                    _ => size,
                };
                let own = self.b.slot(longest);
                self.vars.insert(name.to_string(), Var::Str(own, longest));
                self.store_val(
                    Base::Slot(own),
                    0,
                    &Val::Str(slot, size),
                    &Type::Str { size: longest },
                );
            }
            (None, Val::Bytes(slot, ty)) => {
                let ty_held = wanted.filter(|w| same_shape(w, &ty)).unwrap_or(ty.clone());
                let own = self.b.slot(ty_held.size());
                if ty_held == ty {
                    let len = self.b.slot_size(own);
                    self.b.copy(Base::Slot(own), 0, Base::Slot(slot), 0, len);
                } else {
                    self.store_converted(Base::Slot(own), 0, (slot, 0), &ty, &ty_held);
                }
                self.vars.insert(name.to_string(), Var::Bytes(own, ty_held));
            }
            (Some(Var::Bytes(own, ty)), Val::Bytes(slot, from)) if ty == from => {
                let len = self.b.slot_size(own);
                self.b.copy(Base::Slot(own), 0, Base::Slot(slot), 0, len);
            }
            (Some(Var::Bytes(own, ty)), Val::Bytes(slot, from))
                if self.copy_record(own, &ty, slot, &from) => {}
            (Some(Var::Bytes(own, ty)), Val::Bytes(slot, from)) if same_shape(&ty, &from) => {
                self.store_converted(Base::Slot(own), 0, (slot, 0), &from, &ty);
            }
            (Some(Var::Scalar(r, Type::Int { size, signed })), Val::Scalar(op, _)) if size < 8 => {
                // A narrow variable keeps its width: `$x = (uint8)255; $x++` is 0.
                let src = self.b.reg(op);
                self.b.emit(Inst::Ext {
                    dst: r,
                    src,
                    size,
                    signed,
                });
            }
            (Some(Var::Scalar(r, _)), Val::Scalar(op, _)) => {
                self.b.emit(Inst::Mov { dst: r, src: op });
            }
            (Some(Var::Str(own, size)), Val::Str(slot, from)) => {
                self.store_val(
                    Base::Slot(own),
                    0,
                    &Val::Str(slot, from),
                    &Type::Str { size },
                );
            }
            (Some(Var::Entry(_)), _) => {
                let msg = format!("{name} is the entry of a for loop; it cannot be assigned");
                self.error(msg, span, "loop entry");
            }
            (Some(existing), v) => {
                let had = match existing {
                    Var::Scalar(_, ty) => ty.to_string(),
                    Var::Str(_, size) => format!("string[{size}]"),
                    Var::Bytes(_, ty) | Var::Mem(_, ty, _) => ty.to_string(),
                    Var::Entry(_) => "a map entry".to_string(),
                };
                let msg = format!(
                    "variable {name} holds {had}, it cannot be assigned {}",
                    v.ty()
                );
                self.error(msg, span, "type mismatch");
            }
            (None, other) => {
                self.error(
                    format!("a variable cannot hold {}", other.ty()),
                    span,
                    "no value",
                );
            }
        }
    }

    /// Records (first pass) the string or tuple type `v` needs in variable `name`, and
    /// returns the type learned from every assignment.
    fn learn_var_type(&mut self, name: &str, v: &Val) -> Option<Type> {
        let ty = match v {
            Val::Str(_, size) => Type::Str { size: *size },
            Val::Bytes(_, ty @ Type::Tuple(_)) => ty.clone(),
            _ => return None,
        };
        let key = (self.module.function, name.to_string());
        let learned = match self.module.var_types.get(&key) {
            Some(known) if same_shape(known, &ty) => super::mapcheck::unify(known, &ty),
            Some(known) => known.clone(),
            None => ty,
        };
        self.module.var_types.insert(key, learned.clone());
        Some(learned)
    }
}

/// Whether two types differ at most in the lengths of their strings (a bool and a
/// 64-bit integer share a shape).
fn same_shape(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Str { .. }, Type::Str { .. }) => true,
        (Type::Bool, Type::Int { size: 8, .. }) | (Type::Int { size: 8, .. }, Type::Bool) => true,
        (Type::Tuple(x), Type::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_shape(a, b))
        }
        (Type::Named(n, x), Type::Named(m, y)) => n == m && same_shape(x, y),
        _ => a == b,
    }
}

/// The part of `stmt` its own code comes from: a loop's or an `if`'s head (up to its
/// body, whose statements mark their own code), or the whole statement.
fn head(stmt: &Stmt) -> Span {
    let body = match &stmt.kind {
        StmtKind::While { body, .. }
        | StmtKind::Unroll { body, .. }
        | StmtKind::For { body, .. }
        | StmtKind::If { then: body, .. } => body,
        _ => return stmt.span,
    };
    Span {
        start: stmt.span.start,
        end: body.span.start.max(stmt.span.start),
    }
}
