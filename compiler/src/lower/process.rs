//! Builtins with an optional argument and the call form of builtin variables:
//! `pid([curr_ns|init])`, `tid(...)`, `nsecs([monotonic|boot|tai|sw_tai])`,
//! `ppid[(task)]`, `pcomm[(task)]`, `usermode`, `probetype`, `has_cpid`, and `name()`
//! for every builtin variable `name`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand};
use crate::probes::CtxKind;
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind, Spanned};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::catalogue;

/// Offset in x86-64 `struct pt_regs` of the code segment (`cs`), whose low two bits are
/// the privilege level the registers were saved at (3: user mode).
const PT_REGS_CS: i32 = 136;
/// The inode number of the initial PID namespace (`PROC_PID_INIT_INO`).
const INIT_PID_NS_INO: u64 = 0xEFFF_FFFC;

impl Lower<'_> {
    /// `name(args)` where `name` is a builtin variable; `None` if it is not one.
    pub(super) fn variable_call(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Val> {
        catalogue::variable(name)?;
        let val = match (name, args) {
            (_, []) => match self.builtin_value(name) {
                Some(v) => v,
                None => {
                    let msg = format!("{name} is not available in this probe");
                    self.error(msg, span, "no value here");
                    Val::zero()
                }
            },
            ("pid" | "tid", [mode]) => self.namespaced_id(name == "pid", mode),
            ("nsecs", [mode]) => self.clock(mode),
            ("ppid" | "pcomm", [task]) => self.parent_info(name == "ppid", task.clone()),
            _ => {
                let msg = match name {
                    "pid" | "tid" | "nsecs" | "ppid" | "pcomm" => {
                        format!("{name}() takes at most one argument")
                    }
                    _ => format!("{name} is a builtin variable: it takes no arguments"),
                };
                self.error(msg, span, "in this call");
                Val::zero()
            }
        };
        Some(val)
    }

    /// `ppid` / `pcomm` of the current task: its parent's process id, its process's name.
    pub(super) fn own_parent_info(&mut self, ppid: bool) -> Val {
        let curtask = Expr {
            kind: ExprKind::Ident("curtask".into()),
            span: Span::default(),
        };
        self.parent_info(ppid, curtask)
    }

    /// `task->real_parent->tgid` as a uint32, or `task->group_leader->comm`.
    fn parent_info(&mut self, ppid: bool, task: Expr) -> Val {
        let (via, member) = if ppid {
            ("real_parent", "tgid")
        } else {
            ("group_leader", "comm")
        };
        let field = |expr: Expr, name: &str| Expr {
            span: expr.span,
            kind: ExprKind::Field {
                field: Spanned {
                    node: name.to_string(),
                    span: expr.span,
                },
                expr: Box::new(expr),
                arrow: true,
            },
        };
        let value = self.expr(&field(field(task, via), member));
        if ppid {
            self.convert_int(value, &Type::U32)
        } else {
            value
        }
    }

    /// `pid` / `tid`: as seen from ebpfc's PID namespace, the same as the kernel's ids
    /// when ebpfc runs in the initial one.
    pub(super) fn own_id(&mut self, pid: bool) -> Val {
        match own_pid_namespace() {
            Some((dev, ino)) if ino != INIT_PID_NS_INO => self.ns_current_id(pid, dev, ino),
            _ => self.init_id(pid),
        }
    }

    /// `pid(init)` / `tid(init)`: the kernel's ids.
    fn init_id(&mut self, pid: bool) -> Val {
        let id = self.helper_half(helpers::GET_CURRENT_PID_TGID, pid);
        Val::Scalar(Operand::Reg(id), Type::U32)
    }

    /// `pid(mode)` / `tid(mode)`: as seen from ebpfc's PID namespace (`curr_ns`) or the
    /// initial one (`init`).
    fn namespaced_id(&mut self, pid: bool, mode: &Expr) -> Val {
        let name = if pid { "pid" } else { "tid" };
        match mode_name(mode) {
            Some("init") => self.init_id(pid),
            Some("curr_ns") => self.own_id(pid),
            _ => {
                let msg = format!("{name}() takes curr_ns or init");
                self.error(msg, mode.span, "unknown PID namespace mode");
                Val::zero()
            }
        }
    }

    /// The pid (`tgid`) or tid of the current task in the PID namespace `dev`/`ino`.
    fn ns_current_id(&mut self, pid: bool, dev: u64, ino: u64) -> Val {
        let slot = self.b.slot(8);
        self.b.zero(Base::Slot(slot), 0, 8);
        let args = vec![
            Arg::Val(Operand::Imm(dev as i64)),
            Arg::Val(Operand::Imm(ino as i64)),
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(8)),
        ];
        self.b.call(helpers::GET_NS_CURRENT_PID_TGID, args);
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset: if pid { 4 } else { 0 },
            size: 4,
            signed: false,
        });
        Val::Scalar(Operand::Reg(dst), Type::U32)
    }

    /// `nsecs(mode)`: the time on clock `mode`.
    fn clock(&mut self, mode: &Expr) -> Val {
        let helper = match mode_name(mode) {
            Some("monotonic") => helpers::KTIME_GET_NS,
            Some("boot") => helpers::KTIME_GET_BOOT_NS,
            // The kernel keeps TAI for BPF: no need for the approximation.
            Some("tai" | "sw_tai") => helpers::KTIME_GET_TAI_NS,
            _ => {
                let msg = "nsecs() takes monotonic, boot, tai or sw_tai";
                self.error(msg, mode.span, "unknown clock");
                return Val::zero();
            }
        };
        Val::Scalar(Operand::Reg(self.b.call(helper, vec![])), Type::U64)
    }

    /// `usermode`: 1 if the probe interrupted user code (the saved `cs` is at privilege
    /// level 3); probes with no saved registers always run in the kernel.
    pub(super) fn usermode(&mut self) -> Val {
        let ty = Type::Int {
            size: 1,
            signed: false,
        };
        if !matches!(
            self.target.ctx,
            CtxKind::PtRegs { .. } | CtxKind::Usdt | CtxKind::Perf
        ) {
            return Val::Scalar(Operand::Imm(0), ty);
        }
        let Val::Scalar(Operand::Reg(cs), _) = self.ctx_u64(PT_REGS_CS) else {
            return Val::Scalar(Operand::Imm(0), ty);
        };
        let level = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst: level,
            op: AluOp::And,
            lhs: cs,
            rhs: Operand::Imm(3),
        });
        let dst = self.b.vreg();
        self.b.emit(Inst::Set {
            dst,
            cond: Cmp::Eq,
            lhs: level,
            rhs: Operand::Imm(3),
        });
        Val::Scalar(Operand::Reg(dst), ty)
    }

    /// `probetype`: the kind of the probe (`special` for BEGIN and END).
    pub(super) fn probetype(&mut self) -> Val {
        let kind = match self.target.attach.kind() {
            "BEGIN" | "END" => "special",
            kind => kind,
        };
        self.str_literal(kind)
    }
}

/// The bare identifier a mode argument is (`init`, `boot`...).
fn mode_name(mode: &Expr) -> Option<&str> {
    match &mode.kind {
        ExprKind::Ident(name) => Some(name),
        _ => None,
    }
}

/// The device (in the kernel's encoding) and inode of ebpfc's own PID namespace.
fn own_pid_namespace() -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/proc/self/ns/pid").ok()?;
    let dev = meta.dev();
    // User space sees the device as glibc encodes it; the kernel compares MKDEV's form.
    let major = (dev >> 8) & 0xfff;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    Some(((major << 20) | minor, meta.ino()))
}
