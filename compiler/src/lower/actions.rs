//! Builtins that act on the system or the probed context: `system`, `signal` and
//! `override` (allowed only with `--unsafe`), `reg(name)`, `uptr`/`kptr` address-space
//! casts, `strftime` and `cgroupid`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{Arg, Operand};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;

/// x86-64 `struct pt_regs` members by name, with their offsets.
const PT_REGS: &[(&str, i32)] = &[
    ("r15", 0),
    ("r14", 8),
    ("r13", 16),
    ("r12", 24),
    ("bp", 32),
    ("bx", 40),
    ("r11", 48),
    ("r10", 56),
    ("r9", 64),
    ("r8", 72),
    ("ax", 80),
    ("cx", 88),
    ("dx", 96),
    ("si", 104),
    ("di", 112),
    ("orig_ax", 120),
    ("ip", 128),
    ("cs", 136),
    ("flags", 144),
    ("sp", 152),
    ("ss", 160),
];

/// Signal numbers by name (with or without `SIG`).
const SIGNALS: &[(&str, i64)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
];

impl Lower<'_> {
    /// `system(fmt, ...)`, `signal(sig)`, `override(rc)` (the catalogue has already
    /// checked `--unsafe`).
    pub(super) fn unsafe_action(&mut self, name: &str, args: &[Expr], span: Span) -> Val {
        match name {
            "system" => self.system(args, span),
            "signal" => self.signal(args, span),
            _ => self.override_return(args, span),
        }
        Val::Void
    }

    fn system(&mut self, args: &[Expr], span: Span) {
        let Some(ExprKind::Str(template)) = args.first().map(|a| &a.kind) else {
            self.error(
                "system() needs a string literal command format",
                span,
                "in this call",
            );
            return;
        };
        let vals: Vec<Val> = args[1..].iter().map(|a| self.expr(a)).collect();
        match super::calls::check_format(template, &vals) {
            Ok(()) => self.printf_vals(template.clone(), &vals, true),
            Err(msg) => self.error(msg, args[0].span, "this format"),
        }
    }

    fn signal(&mut self, args: &[Expr], span: Span) {
        let [sig] = args else {
            self.error(
                "signal() takes one signal, a number or a name like \"SIGKILL\"",
                span,
                "in this call",
            );
            return;
        };
        let number = match &sig.kind {
            ExprKind::Str(name) => {
                let short = name.strip_prefix("SIG").unwrap_or(name);
                match SIGNALS.iter().find(|(n, _)| *n == short) {
                    Some((_, v)) => Operand::Imm(*v),
                    None => {
                        self.error(format!("unknown signal '{name}'"), sig.span, "not a signal");
                        return;
                    }
                }
            }
            _ => self.int_operand(sig),
        };
        self.b.call(helpers::SEND_SIGNAL, vec![Arg::Val(number)]);
    }

    fn override_return(&mut self, args: &[Expr], span: Span) {
        let [rc] = args else {
            self.error(
                "override() takes the return value to force",
                span,
                "in this call",
            );
            return;
        };
        let rc = self.int_operand(rc);
        let ctx = self.ctx;
        self.b.call(
            helpers::OVERRIDE_RETURN,
            vec![Arg::Val(Operand::Reg(ctx)), Arg::Val(rc)],
        );
    }

    /// `reg("ip")`: a register of the probed context.
    pub(super) fn reg(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(name)) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            self.error(
                "reg() takes a register name, as in reg(\"ip\")",
                span,
                "in this call",
            );
            return Val::zero();
        };
        match PT_REGS.iter().find(|(n, _)| n == name) {
            Some((_, offset)) => self.ctx_u64(*offset),
            None => {
                let names = PT_REGS.iter().map(|(n, _)| *n);
                let hint = crate::suggest::did_you_mean(name, names)
                    .map(|h| format!("; did you mean '{h}'?"));
                let msg = format!("unknown register '{name}'{}", hint.unwrap_or_default());
                self.error(msg, args[0].span, "not a register");
                Val::zero()
            }
        }
    }

    /// `uptr(p)` / `kptr(p)`: the same pointer, read from user or kernel memory.
    pub(super) fn address_space(&mut self, user: bool, args: &[Expr], span: Span) -> Val {
        let [arg] = args else {
            self.error("uptr() and kptr() take one pointer", span, "in this call");
            return Val::zero();
        };
        match self.expr(arg) {
            Val::Scalar(op, Type::Ptr { pointee, .. }) => {
                Val::Scalar(op, Type::Ptr { pointee, user })
            }
            Val::Scalar(op, _) => {
                let pointee = Box::new(Type::U64);
                Val::Scalar(op, Type::Ptr { pointee, user })
            }
            other => {
                self.error(
                    format!("{} is not a pointer", other.ty()),
                    arg.span,
                    "not a pointer",
                );
                Val::zero()
            }
        }
    }

    /// `strftime(fmt, ns)`: a time the runtime prints with the strftime format.
    pub(super) fn strftime(&mut self, args: &[Expr], span: Span) -> Val {
        let [fmt, ns] = args else {
            self.error(
                "strftime() takes a format and a time in nanoseconds",
                span,
                "in this call",
            );
            return Val::Void;
        };
        let ExprKind::Str(format) = &fmt.kind else {
            self.error(
                "strftime() format must be a string literal",
                fmt.span,
                "not a literal",
            );
            return Val::Void;
        };
        let ns = self.int_operand(ns);
        let index = self.module.strings.len() as u32;
        self.module.strings.push(format.clone());
        self.word_value(ns, Type::Time { format: index })
    }

    /// `cgroupid("/sys/fs/cgroup/...")`: the cgroup's id (its directory's inode), read now.
    pub(super) fn cgroupid(&mut self, args: &[Expr], span: Span) -> Val {
        use std::os::unix::fs::MetadataExt;
        let Some(ExprKind::Str(path)) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            self.error(
                "cgroupid() takes the cgroup's path as a string literal",
                span,
                "in this call",
            );
            return Val::zero();
        };
        match std::fs::metadata(path) {
            Ok(m) => Val::Scalar(Operand::Imm(m.ino() as i64), Type::U64),
            Err(e) => {
                self.error(
                    format!("cannot read cgroup {path}: {e}"),
                    args[0].span,
                    "here",
                );
                Val::zero()
            }
        }
    }
}
