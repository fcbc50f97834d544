//! Builtin variables: `pid tid uid comm nsecs cpu ncpus curtask cgroup ...`, `argN`,
//! `sargN`, USDT arguments, `retval`, and reads of the probe context they need.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Inst, Operand, VReg};
use crate::probes::CtxKind;
use crate::types::Type;
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;

/// Offsets in x86-64 `struct pt_regs` of the argument registers (di, si, dx, cx, r8, r9).
const PT_REGS_ARGS: [i32; 6] = [112, 104, 96, 88, 72, 64];
/// Offset in x86-64 `struct pt_regs` of the return value register (ax).
const PT_REGS_RET: i32 = 80;
/// Offset in x86-64 `struct pt_regs` of the stack pointer.
const PT_REGS_SP: i32 = 152;

impl Lower<'_> {
    /// The value of a builtin variable, or `None` if `name` is not one.
    pub(super) fn builtin_value(&mut self, name: &str) -> Option<Val> {
        let scalar = |r: VReg, ty: Type| Some(Val::Scalar(Operand::Reg(r), ty));
        match name {
            "pid" | "tid" => Some(self.own_id(name == "pid")),
            "uid" => scalar(
                self.helper_half(helpers::GET_CURRENT_UID_GID, false),
                Type::U32,
            ),
            "gid" => scalar(
                self.helper_half(helpers::GET_CURRENT_UID_GID, true),
                Type::U32,
            ),
            "nsecs" => scalar(self.b.call(helpers::KTIME_GET_NS, vec![]), Type::U64),
            "jiffies" => scalar(self.b.call(helpers::JIFFIES64, vec![]), Type::U64),
            "rand" => scalar(self.b.call(helpers::GET_PRANDOM_U32, vec![]), Type::U32),
            "cpu" => scalar(
                self.b.call(helpers::GET_SMP_PROCESSOR_ID, vec![]),
                Type::U32,
            ),
            "comm" => {
                let slot = self.b.slot(16);
                self.b.zero(Base::Slot(slot), 0, 16);
                let args = vec![Arg::Slot(slot, 0), Arg::Val(Operand::Imm(16))];
                self.b.call(helpers::GET_CURRENT_COMM, args);
                Some(Val::Str(slot, 16))
            }
            "args" if self.has_args() => Some(Val::Args),
            "ctx" => self.iter_ctx(),
            "username" => {
                let r = self.b.call(helpers::GET_CURRENT_UID_GID, vec![]);
                let slot = self.b.slot(8);
                self.b.emit(Inst::Store {
                    base: Base::Slot(slot),
                    offset: 0,
                    size: 4,
                    value: Operand::Reg(r),
                });
                self.b.emit(Inst::Store {
                    base: Base::Slot(slot),
                    offset: 4,
                    size: 4,
                    value: Operand::Imm(0),
                });
                Some(Val::Bytes(slot, Type::Username))
            }
            "curtask" => {
                let ty = self.task_pointer();
                scalar(self.b.call(helpers::GET_CURRENT_TASK, vec![]), ty)
            }
            "cgroup" => scalar(
                self.b.call(helpers::GET_CURRENT_CGROUP_ID, vec![]),
                Type::U64,
            ),
            "probe" => Some(self.str_literal(&self.target.name.clone())),
            "func" => self.target.func.clone().map(|f| self.str_literal(&f)),
            "cpid" => Some(Val::Scalar(
                Operand::Imm(i64::from(self.module.cpid?)),
                Type::U32,
            )),
            "retval" => self.retval(),
            "numaid" => scalar(self.b.call(helpers::GET_NUMA_NODE_ID, vec![]), Type::U32),
            "kstack" | "ustack" => {
                let frames = super::values::MAX_FRAMES;
                Some(self.stack(name == "ustack", frames, meta::StackMode::Bpftrace))
            }
            "elapsed" => Some(self.elapsed()),
            "ppid" | "pcomm" => Some(self.own_parent_info(name == "ppid")),
            "usermode" => Some(self.usermode()),
            "probetype" => Some(self.probetype()),
            "has_cpid" => Some(Val::Scalar(
                Operand::Imm(i64::from(self.module.cpid.is_some())),
                Type::Bool,
            )),
            "ncpus" => Some(Val::Scalar(Operand::Imm(possible_cpus()), Type::U64)),
            _ => self.arg_n(name),
        }
    }

    /// The upper (`high`) or lower 32 bits of what `helper` returns: pid or tid of
    /// `get_current_pid_tgid`, gid or uid of `get_current_uid_gid`.
    pub(super) fn helper_half(&mut self, helper: helpers::Helper, high: bool) -> VReg {
        let r = self.b.call(helper, vec![]);
        let dst = self.b.vreg();
        self.b.emit(if high {
            Inst::Alu {
                dst,
                op: AluOp::LShr,
                lhs: r,
                rhs: Operand::Imm(32),
            }
        } else {
            Inst::Ext {
                dst,
                src: r,
                size: 4,
                signed: false,
            }
        });
        dst
    }

    /// `argN`: the Nth function argument, where the probe has arguments; `sargN`: the
    /// Nth argument passed on the stack (at `sp + 8 * (N + 1)`).
    fn arg_n(&mut self, name: &str) -> Option<Val> {
        if let Some(n) = name
            .strip_prefix("sarg")
            .and_then(|n| n.parse::<i64>().ok())
        {
            return self.stack_arg(n);
        }
        let n: usize = name.strip_prefix("arg")?.parse().ok()?;
        let offset = match self.target.ctx {
            CtxKind::Usdt => return self.usdt_arg(n),
            CtxKind::PtRegs { .. } => *PT_REGS_ARGS.get(n)?,
            CtxKind::Args => i32::try_from(n * 8).ok()?,
            _ => return None,
        };
        Some(self.ctx_u64(offset))
    }

    fn stack_arg(&mut self, n: i64) -> Option<Val> {
        if !self.has_registers() {
            return None;
        }
        let Val::Scalar(sp, _) = self.ctx_u64(PT_REGS_SP) else {
            return None;
        };
        let user = self.user_pointers();
        let at = self.b.reg(sp);
        let addr = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst: addr,
            op: AluOp::Add,
            lhs: at,
            rhs: Operand::Imm(8 * (n + 1)),
        });
        Some(self.load_at(Operand::Reg(addr), 0, &Type::U64, user, Span::default()))
    }

    /// Whether the context is a `struct pt_regs` (kprobes, uprobes, USDT).
    pub(super) fn has_registers(&self) -> bool {
        matches!(
            self.target.ctx,
            CtxKind::PtRegs { .. } | CtxKind::Usdt | CtxKind::Perf
        )
    }

    /// USDT argument `n`: from a register, user memory or a constant, as its note says.
    fn usdt_arg(&mut self, n: usize) -> Option<Val> {
        use crate::probes::usdt::UsdtLoc;
        let arg = *self.target.usdt_args.as_ref()?.get(n)?;
        let ty = Type::Int {
            size: arg.size,
            signed: arg.signed,
        };
        let raw = match arg.loc {
            UsdtLoc::Const(v) => return Some(Val::Scalar(Operand::Imm(v), ty)),
            UsdtLoc::Reg(offset) => self.ctx_u64(offset),
            UsdtLoc::Mem { base, disp } => {
                let Val::Scalar(at, _) = self.ctx_u64(base) else {
                    return None;
                };
                let at = self.b.reg(at);
                let addr = self.b.vreg();
                self.b.emit(Inst::Alu {
                    dst: addr,
                    op: AluOp::Add,
                    lhs: at,
                    rhs: Operand::Imm(disp),
                });
                return Some(self.load_at(Operand::Reg(addr), 0, &ty, true, Span::default()));
            }
        };
        let Val::Scalar(op, _) = raw else {
            return None;
        };
        let converted = self.convert_int(Val::Scalar(op, Type::U64), &ty);
        Some(converted)
    }

    /// `retval` of a kretprobe, uretprobe or fexit.
    fn retval(&mut self) -> Option<Val> {
        match &self.target.attach {
            meta::Attach::Fentry {
                function,
                ret: true,
            } => {
                let (params, ret) = match self.module.types.function(function) {
                    Ok(sig) => sig,
                    Err(_) => (Vec::new(), Type::U64),
                };
                Some(self.ctx_arg(params.len(), &ret))
            }
            _ if self.target.ctx == (CtxKind::PtRegs { ret: true }) => {
                Some(self.ctx_u64(PT_REGS_RET))
            }
            _ => None,
        }
    }

    /// Whether the probe has an `args` structure.
    fn has_args(&self) -> bool {
        self.target.fields.is_some()
            || matches!(
                self.target.attach,
                meta::Attach::Fentry { .. } | meta::Attach::RawTracepoint { .. }
            )
    }

    /// `struct task_struct *`, or a plain integer when the kernel's BTF is missing.
    fn task_pointer(&mut self) -> Type {
        match self.module.types.tagged("struct", "task_struct") {
            Ok(task) => Type::Ptr {
                pointee: Box::new(task),
                user: false,
            },
            Err(_) => Type::U64,
        }
    }

    pub(super) fn ctx_u64(&mut self, offset: i32) -> Val {
        let dst = self.b.vreg();
        let ctx = self.ctx;
        self.b.emit(Inst::Load {
            dst,
            base: Base::Reg(ctx),
            offset,
            size: 8,
            signed: false,
        });
        Val::Scalar(Operand::Reg(dst), Type::U64)
    }
}

/// The number of CPUs the kernel may bring up (`/sys/devices/system/cpu/possible`, as
/// `0-3` or `0,2-5`), fixed when the program is compiled; 1 if it cannot be read.
fn possible_cpus() -> i64 {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|text| cpu_count(&text))
        .unwrap_or(1)
}

/// The number of CPUs a kernel CPU list (`0-3,6`) names.
fn cpu_count(list: &str) -> Option<i64> {
    list.trim().split(',').try_fold(0, |n, range| {
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        let (lo, hi) = (
            lo.trim().parse::<i64>().ok()?,
            hi.trim().parse::<i64>().ok()?,
        );
        Some(n + hi - lo + 1)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_lists_count_every_range() {
        assert_eq!(super::cpu_count("0-3\n"), Some(4));
        assert_eq!(super::cpu_count("0,2-5"), Some(5));
        assert_eq!(super::cpu_count("0"), Some(1));
        assert_eq!(super::cpu_count("x"), None);
    }
}
