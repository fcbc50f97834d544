//! Builtin variables and functions: `pid tid comm nsecs cpu ...`, `printf`, `exit`,
//! `str`, plus the string operations they need (literals, equality, copies out of the
//! tracepoint record). Events go to the ring buffer in the record layouts of
//! `ebpfc_stdlib::meta` (u64 event id first).

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, SlotId, VReg};
use crate::probes::CtxKind;
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;

/// Builtin variable names, for suggestions.
pub const BUILTINS: &[&str] = &[
    "pid", "tid", "uid", "gid", "comm", "nsecs", "cpu", "args", "jiffies", "rand", "retval",
    "probe", "func", "curtask", "cgroup", "cpid", "kstack", "ustack", "elapsed", "arg0", "arg1",
    "arg2", "arg3", "arg4", "arg5",
];
/// Offsets in x86-64 `struct pt_regs` of the argument registers (di, si, dx, cx, r8, r9).
const PT_REGS_ARGS: [i32; 6] = [112, 104, 96, 88, 72, 64];
/// Offset in x86-64 `struct pt_regs` of the return value register (ax).
const PT_REGS_RET: i32 = 80;
/// Default size of strings read with `str()`.
pub const STRING_SIZE: u32 = 64;

impl Lower<'_> {
    /// The value of a builtin variable, or `None` if `name` is not one.
    pub(super) fn builtin_value(&mut self, name: &str) -> Option<Val> {
        let scalar = |r: VReg, ty: Type| Some(Val::Scalar(Operand::Reg(r), ty));
        match name {
            "pid" | "tid" => {
                let r = self.b.call(helpers::GET_CURRENT_PID_TGID, vec![]);
                let dst = self.b.vreg();
                let inst = if name == "pid" {
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
                };
                self.b.emit(inst);
                scalar(dst, Type::U32)
            }
            "uid" | "gid" => {
                let r = self.b.call(helpers::GET_CURRENT_UID_GID, vec![]);
                let dst = self.b.vreg();
                let inst = if name == "gid" {
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
                };
                self.b.emit(inst);
                scalar(dst, Type::U32)
            }
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
            "kstack" => Some(self.stack(false, super::values::MAX_FRAMES)),
            "ustack" => Some(self.stack(true, super::values::MAX_FRAMES)),
            "elapsed" => Some(self.elapsed()),
            _ => self.arg_n(name),
        }
    }

    /// `argN`: the Nth function argument, where the probe has arguments.
    fn arg_n(&mut self, name: &str) -> Option<Val> {
        let n: usize = name.strip_prefix("arg")?.parse().ok()?;
        let offset = match self.target.ctx {
            CtxKind::PtRegs { .. } => *PT_REGS_ARGS.get(n)?,
            CtxKind::Args => i32::try_from(n * 8).ok()?,
            _ => return None,
        };
        Some(self.ctx_u64(offset))
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

    fn ctx_u64(&mut self, offset: i32) -> Val {
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

    /// A function call used as an expression or statement.
    pub(super) fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Val {
        if let Some(v) = self.map_function(name, args, span) {
            return v;
        }
        if let Some(v) = self.value_function(name, args, span) {
            return v;
        }
        match name {
            "printf" => self.printf(args, span),
            "exit" => self.exit(args, span),
            "str" => self.str_call(args, span),
            "count" | "sum" | "min" | "max" | "avg" | "stats" | "hist" | "lhist" => {
                let msg = format!("{name}() can only be assigned to a map, as in @x = {name}(...)");
                self.error(msg, span, "aggregation outside a map assignment");
                Val::Void
            }
            _ => {
                self.error(
                    format!("unknown function '{name}'"),
                    span,
                    "unknown function",
                );
                Val::Void
            }
        }
    }

    /// A string literal in a fresh, zero-padded slot.
    pub(super) fn str_literal(&mut self, s: &str) -> Val {
        let bytes = s.as_bytes();
        let size = bytes.len() as u32 + 1;
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot) as usize;
        let mut padded = bytes.to_vec();
        padded.resize(len, 0);
        for (i, chunk) in padded.chunks(4).enumerate() {
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let value = Operand::Imm(i64::from(word as i32));
            self.b.emit(Inst::Store {
                base: Base::Slot(slot),
                offset: i as i32 * 4,
                size: 4,
                value,
            });
        }
        Val::Str(slot, size)
    }

    /// 1 if two strings are equal (up to their NUL), else 0.
    pub(super) fn str_equal(&mut self, a: &Val, b: &Val, _rhs: &Expr) -> VReg {
        let (Val::Str(sa, na), Val::Str(sb, nb)) = (a, b) else {
            unreachable!("checked by caller")
        };
        let result = self.b.vreg();
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(0),
        });
        let (equal, done) = (self.fresh_block(), self.fresh_block());
        let n = (*na).min(*nb);
        for i in 0..n as i32 {
            let x = self.load_byte(*sa, i);
            let y = self.load_byte(*sb, i);
            let (same, next) = (self.fresh_block(), self.fresh_block());
            self.b.branch(Cmp::Eq, x, Operand::Reg(y), same, done);
            self.b.branch(Cmp::Ne, x, Operand::Imm(0), next, equal);
        }
        let (longer, len) = if na > nb { (*sa, *na) } else { (*sb, *nb) };
        if n < len {
            let x = self.load_byte(longer, n as i32);
            self.b.branch(Cmp::Eq, x, Operand::Imm(0), equal, done);
        } else {
            self.b.jump_to(equal);
        }
        self.b.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(1),
        });
        self.b.jump_to(done);
        result
    }

    fn load_byte(&mut self, slot: SlotId, offset: i32) -> VReg {
        let dst = self.b.vreg();
        self.b.emit(Inst::Load {
            dst,
            base: Base::Slot(slot),
            offset,
            size: 1,
            signed: false,
        });
        dst
    }

    /// Copies `len` bytes at `ctx + offset` into a fresh string slot.
    pub(super) fn read_ctx_bytes(&mut self, offset: u32, len: u32) -> Val {
        let slot = self.b.slot(len + 1);
        let size = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, size);
        let src = self.b.vreg();
        let ctx = self.ctx;
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::Add,
            lhs: ctx,
            rhs: Operand::Imm(i64::from(offset)),
        });
        let args = vec![
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(len))),
            Arg::Val(Operand::Reg(src)),
        ];
        self.b.call(helpers::PROBE_READ_KERNEL, args);
        Val::Str(slot, len)
    }

    /// A `__data_loc char[]` field: the string lives at `ctx + (loc & 0xffff)`.
    pub(super) fn read_data_loc(&mut self, offset: u32) -> Val {
        let loc = self.b.vreg();
        let ctx = self.ctx;
        self.b.emit(Inst::Load {
            dst: loc,
            base: Base::Reg(ctx),
            offset: offset as i32,
            size: 4,
            signed: false,
        });
        let src = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::And,
            lhs: loc,
            rhs: Operand::Imm(0xffff),
        });
        self.b.emit(Inst::Alu {
            dst: src,
            op: AluOp::Add,
            lhs: src,
            rhs: Operand::Reg(ctx),
        });
        self.read_str_from(Operand::Reg(src), STRING_SIZE, false)
    }

    /// `str(ptr [, len])`.
    fn str_call(&mut self, args: &[Expr], span: Span) -> Val {
        if args.is_empty() || args.len() > 2 {
            self.error(
                "str() takes a pointer and an optional length",
                span,
                "in this call",
            );
            return Val::Void;
        }
        let value = self.expr(&args[0]);
        let (ptr, ty) = match value {
            Val::Str(..) => return value,
            Val::Scalar(op, ty) => (op, ty),
            other => {
                self.error(
                    format!("str() needs a pointer, found {}", other.ty()),
                    args[0].span,
                    "not a pointer",
                );
                return Val::Void;
            }
        };
        let size = match args.get(1).map(|a| self.const_int(a)) {
            None => STRING_SIZE,
            Some(Some(n)) if n > 0 => (n as u32).min(STRING_SIZE) + 1,
            Some(_) => {
                self.error(
                    "str() length must be a positive integer literal",
                    args[1].span,
                    "here",
                );
                STRING_SIZE
            }
        };
        let user = matches!(ty, Type::Ptr { user: true, .. }) || self.user_pointers();
        self.read_str_from(ptr, size, user)
    }

    /// Pointers read from syscall tracepoints point into user memory.
    pub(super) fn user_pointers(&self) -> bool {
        matches!(&self.target.attach, meta::Attach::Tracepoint { category, .. } if category == "syscalls")
    }

    fn read_str_from(&mut self, ptr: Operand, size: u32, user: bool) -> Val {
        let slot = self.b.slot(size);
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        let helper = if user {
            helpers::PROBE_READ_USER_STR
        } else {
            helpers::PROBE_READ_KERNEL_STR
        };
        let args = vec![
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(size))),
            Arg::Val(ptr),
        ];
        self.b.call(helper, args);
        Val::Str(slot, size)
    }

    /// `exit([code])`: sends the exit event and ends the probe.
    fn exit(&mut self, args: &[Expr], span: Span) -> Val {
        if args.len() > 1 {
            self.error("exit() takes at most one argument", span, "in this call");
        }
        let code = args
            .first()
            .map_or(Operand::Imm(0), |a| self.int_operand(a));
        let slot = self.b.slot(16);
        let id = Operand::Imm(meta::EVENT_EXIT as i64);
        self.b.emit(Inst::Store {
            base: Base::Slot(slot),
            offset: 0,
            size: 8,
            value: id,
        });
        self.b.emit(Inst::Store {
            base: Base::Slot(slot),
            offset: 8,
            size: 8,
            value: code,
        });
        self.output(slot, 16);
        let next = self.fresh_block();
        self.b
            .finish(crate::ir::Term::Return(Operand::Imm(0)), next);
        Val::Void
    }

    pub(super) fn output(&mut self, slot: SlotId, size: u32) {
        self.module.uses_ringbuf = true;
        let ringbuf = self.module.ringbuf;
        let args = vec![
            Arg::Map(ringbuf),
            Arg::Slot(slot, 0),
            Arg::Val(Operand::Imm(i64::from(size))),
            Arg::Val(Operand::Imm(0)),
        ];
        let result = self.b.call(helpers::RINGBUF_OUTPUT, args);
        self.count_lost(result);
    }

    /// Adds one to the lost-event counter when `result` (of ringbuf_output) is an error.
    fn count_lost(&mut self, result: VReg) {
        let (lost, done) = (self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, result, Operand::Imm(0), lost, done);
        let key = self.b.slot(8);
        self.b.emit(Inst::Store {
            base: Base::Slot(key),
            offset: 0,
            size: 8,
            value: Operand::Imm(0),
        });
        let map = crate::ir::MapId(self.module.ringbuf.0 + 1);
        let ptr = self
            .b
            .call(helpers::MAP_LOOKUP, vec![Arg::Map(map), Arg::Slot(key, 0)]);
        let found = self.fresh_block();
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        let count = self.b.vreg();
        self.b.emit(Inst::Load {
            dst: count,
            base: Base::Reg(ptr),
            offset: 0,
            size: 8,
            signed: false,
        });
        self.b.emit(Inst::Alu {
            dst: count,
            op: AluOp::Add,
            lhs: count,
            rhs: Operand::Imm(1),
        });
        self.b.emit(Inst::Store {
            base: Base::Reg(ptr),
            offset: 0,
            size: 8,
            value: Operand::Reg(count),
        });
        self.b.jump_to(done);
    }

    /// `printf(fmt, args...)`: one event with the argument values.
    fn printf(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(template)) = args.first().map(|a| &a.kind) else {
            self.error(
                "printf() needs a string literal format as its first argument",
                span,
                "in this call",
            );
            return Val::Void;
        };
        let vals: Vec<Val> = args[1..].iter().map(|a| self.expr(a)).collect();
        if let Err(msg) = check_format(template, &vals) {
            self.error(msg, args[0].span, "this format");
            return Val::Void;
        }
        let mut types = vec![Type::U64];
        types.extend(vals.iter().map(|v| v.ty().widened()));
        let (offsets, size) = tuple_layout(&types);
        let slot = self.b.slot(size);
        let id = meta::EVENT_PRINTF + self.module.formats.len() as u64;
        self.b.zero(Base::Slot(slot), 0, self.b.slot_size(slot));
        self.b.emit(Inst::Store {
            base: Base::Slot(slot),
            offset: 0,
            size: 8,
            value: Operand::Imm(id as i64),
        });
        for ((val, ty), off) in vals.iter().zip(&types[1..]).zip(&offsets[1..]) {
            self.store_val(Base::Slot(slot), *off as i32, val, ty);
        }
        let fields = types[1..]
            .iter()
            .zip(&offsets[1..])
            .map(|(ty, off)| meta::Field {
                offset: *off,
                ty: ty.to_meta(),
            })
            .collect();
        self.module.formats.push(meta::Format {
            template: template.clone(),
            args: fields,
        });
        self.output(slot, size);
        Val::Void
    }
}

/// Checks that the conversions of `template` match the argument values.
fn check_format(template: &str, vals: &[Val]) -> Result<(), String> {
    let convs = conversions(template)?;
    if convs.len() != vals.len() {
        return Err(format!(
            "the format has {} conversion(s) but {} argument(s) were given",
            convs.len(),
            vals.len()
        ));
    }
    for (i, (conv, val)) in convs.iter().zip(vals).enumerate() {
        let is_str = matches!(val, Val::Str(..) | Val::Bytes(..));
        match (conv, is_str) {
            ('s', _) => {}
            ('r', _) if matches!(val.ty(), Type::Buf { .. } | Type::Str { .. }) => {}
            ('r', _) => {
                return Err(format!(
                    "argument {} is not a buffer but the format uses %r",
                    i + 1
                ))
            }
            (c, true) => {
                return Err(format!(
                    "argument {} is a string but the format uses %{c}",
                    i + 1
                ))
            }
            _ if matches!(val, Val::Scalar(..)) => {}
            _ => return Err(format!("argument {} has no printable value", i + 1)),
        }
    }
    Ok(())
}

/// The conversion characters of a printf format (`%%` excluded).
fn conversions(template: &str) -> Result<Vec<char>, String> {
    let mut out = Vec::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        let conv = chars.find(|c| {
            !matches!(
                c,
                '-' | '+' | ' ' | '#' | '0'..='9' | '.' | 'l' | 'h' | 'z' | 'j' | 't'
            )
        });
        match conv {
            Some(c @ ('d' | 'i' | 'u' | 'x' | 'X' | 'o' | 's' | 'c' | 'p' | 'r')) => out.push(c),
            Some(c) => return Err(format!("printf conversion %{c} is not supported")),
            None => return Err("the format ends inside a conversion".to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_conversions() {
        assert_eq!(
            conversions("%d %s %5d|%-5s|%x %u %c %% %llu\n").unwrap(),
            vec!['d', 's', 'd', 's', 'x', 'u', 'c', 'u']
        );
        assert!(conversions("%q").is_err());
        assert!(conversions("%5").is_err());
    }
}
