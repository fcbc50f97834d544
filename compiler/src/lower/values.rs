//! Builtins whose values the runtime formats or fills in: `ntop`, `buf`, `kstack` /
//! `ustack`, `ksym` / `usym`, `elapsed`, `cat`, `join`, plus `kaddr` (a kernel symbol's
//! address, resolved at compile time) and `bswap`. Their record layouts are those of
//! `ebpfc_stdlib::meta`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, SlotId, VReg};
use crate::types::Type;
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;

/// Frames a stack trace map entry holds (the kernel's default `perf_event_max_stack`).
pub const MAX_FRAMES: u32 = 127;
/// `BPF_F_USER_STACK`: `get_stackid` walks the user stack.
const USER_STACK: i64 = 1 << 8;

impl Lower<'_> {
    /// The functions of this module; `None` when `name` is not one of them.
    pub(super) fn value_function(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Val> {
        Some(match name {
            "ntop" => self.ntop(args, span),
            "pton" => self.pton(args, span),
            "buf" => self.buf(args, span),
            "kstack" | "ustack" => self.stack_call(name == "ustack", args, span),
            "ksym" | "usym" => self.sym(name == "usym", args, span),
            "kaddr" => self.kaddr(args, span),
            "uaddr" => self.uaddr(args, span),
            "bswap" => self.bswap(args, span),
            "cat" => self.cat(args, span),
            "join" => self.join(args, span),
            _ => return None,
        })
    }

    fn arity(
        &mut self,
        name: &str,
        args: &[Expr],
        range: std::ops::RangeInclusive<usize>,
        span: Span,
    ) -> bool {
        if range.contains(&args.len()) {
            return true;
        }
        let (lo, hi) = (range.start(), range.end());
        let want = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo} to {hi}")
        };
        self.error(
            format!("{name}() takes {want} argument(s)"),
            span,
            "in this call",
        );
        false
    }

    /// A zeroed slot for a value of type `ty`.
    fn value_slot(&mut self, ty: &Type) -> SlotId {
        let slot = self.b.slot(ty.size());
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        slot
    }

    pub(super) fn store(&mut self, slot: SlotId, offset: i32, size: u8, value: Operand) {
        self.b.emit(Inst::Store {
            base: Base::Slot(slot),
            offset,
            size,
            value,
        });
    }

    /// `ntop([af,] addr)`: an integer is an IPv4 address, 4 or 16 bytes an IPv4 or IPv6 one.
    fn ntop(&mut self, args: &[Expr], span: Span) -> Val {
        if !self.arity("ntop", args, 1..=2, span) {
            return Val::Void;
        }
        let family = (args.len() == 2).then(|| self.int_operand(&args[0]));
        let addr_expr = &args[args.len() - 1];
        let addr = self.expr(addr_expr);
        let slot = self.value_slot(&Type::Inet);
        let guessed = match &addr {
            Val::Scalar(op, _) => {
                self.store(slot, 8, 4, *op);
                2
            }
            Val::Str(src, size @ (4 | 16))
            | Val::Bytes(
                src,
                Type::Array {
                    len: size @ (4 | 16),
                    ..
                },
            ) => {
                let size = *size;
                self.b.copy(
                    Base::Slot(slot),
                    8,
                    Base::Slot(*src),
                    0,
                    size.div_ceil(8) * 8,
                );
                if size == 4 {
                    2
                } else {
                    10
                }
            }
            Val::Mem { addr, ty, user } if matches!(ty.size(), 4 | 16) => {
                let size = ty.size();
                self.read_into(
                    (Base::Slot(slot), 8),
                    Operand::Imm(i64::from(size)),
                    *addr,
                    *user,
                );
                if size == 4 {
                    2
                } else {
                    10
                }
            }
            other => {
                let msg = format!(
                    "ntop() needs an integer or a 4 or 16 byte array, found {}",
                    other.ty()
                );
                self.error(msg, addr_expr.span, "not an address");
                return Val::Void;
            }
        };
        self.store(slot, 0, 8, family.unwrap_or(Operand::Imm(guessed)));
        Val::Bytes(slot, Type::Inet)
    }

    /// `pton("1.2.3.4")`: the address's bytes (a `uint8` array of 4 or 16), parsed now.
    fn pton(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(text)) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            self.error(
                "pton() takes an address as a string literal",
                span,
                "in this call",
            );
            return Val::Void;
        };
        let bytes = match text.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
            Ok(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
            Err(_) => {
                let msg = format!("'{text}' is not an IPv4 or IPv6 address");
                self.error(msg, args[0].span, "not an address");
                return Val::Void;
            }
        };
        let slot = self.b.slot(bytes.len() as u32 + 1);
        let len = self.b.slot_size(slot);
        self.b.zero(Base::Slot(slot), 0, len);
        for (i, b) in bytes.iter().enumerate() {
            self.store(slot, i as i32, 1, Operand::Imm(i64::from(*b)));
        }
        let elem = Box::new(Type::Int {
            size: 1,
            signed: false,
        });
        Val::Bytes(
            slot,
            Type::Array {
                elem,
                len: bytes.len() as u32,
            },
        )
    }

    /// `buf(ptr [, len])`: up to the string size (64 bytes unless configured) read from
    /// `ptr`; a longer constant length is cut with a warning, one that is not a constant
    /// is clamped when the probe runs.
    fn buf(&mut self, args: &[Expr], span: Span) -> Val {
        if !self.arity("buf", args, 1..=2, span) {
            return Val::Void;
        }
        let value = self.expr(&args[0]);
        let max = self.string_capacity();
        let (size, len) = match args.get(1) {
            None => {
                let n = value.ty().size().clamp(1, max);
                (n, Operand::Imm(i64::from(n)))
            }
            Some(a) => match self.const_int(a) {
                Some(n) if (1..=i64::from(max)).contains(&n) => (n as u32, Operand::Imm(n)),
                Some(n) if n > 0 => {
                    let msg = format!(
                        "buf() reads at most {max} bytes (BPFTRACE_STRLEN): {n} is cut to {max}"
                    );
                    self.warn(msg, a.span, "too long");
                    (max, Operand::Imm(i64::from(max)))
                }
                Some(n) => {
                    if n < 0 {
                        self.error("buf() length must not be negative", a.span, "bad length");
                    }
                    (1, Operand::Imm(0))
                }
                None => {
                    let n = self.int_operand(a);
                    (max, Operand::Reg(self.clamp(n, max)))
                }
            },
        };
        let ty = Type::Buf { size };
        let slot = self.value_slot(&ty);
        self.store(slot, 0, 8, len);
        match value {
            Val::Str(src, from) => {
                let n = size.min(from).div_ceil(8) * 8;
                self.b.copy(Base::Slot(slot), 8, Base::Slot(src), 0, n);
            }
            Val::Scalar(ptr, Type::Ptr { user, .. }) => {
                self.read_into((Base::Slot(slot), 8), len, ptr, user)
            }
            Val::Mem { addr, user, .. } => self.read_into((Base::Slot(slot), 8), len, addr, user),
            Val::Scalar(ptr, _) => {
                let user = self.user_pointers();
                self.read_into((Base::Slot(slot), 8), len, ptr, user);
            }
            other => {
                let msg = format!("buf() needs a pointer or an array, found {}", other.ty());
                self.error(msg, args[0].span, "no bytes here");
            }
        }
        Val::Bytes(slot, ty)
    }

    /// `min(n, max)` as an unsigned value the verifier can bound.
    pub(super) fn clamp(&mut self, n: Operand, max: u32) -> VReg {
        let r = self.copy_reg(n);
        let (over, done) = (self.fresh_block(), self.fresh_block());
        self.b
            .branch(Cmp::UGt, r, Operand::Imm(i64::from(max)), over, done);
        self.b.emit(Inst::Mov {
            dst: r,
            src: Operand::Imm(i64::from(max)),
        });
        self.b.jump_to(done);
        r
    }

    /// Reads `len` bytes at `ptr` (user or kernel memory) to `base + offset`; the bytes
    /// are zeros when the memory cannot be read.
    pub(super) fn read_into(
        &mut self,
        (base, offset): (Base, i32),
        len: Operand,
        ptr: Operand,
        user: bool,
    ) {
        let dst = match base {
            Base::Slot(slot) => Arg::Slot(slot, offset),
            Base::Reg(r) => Arg::Val(self.offset(Operand::Reg(r), i64::from(offset))),
        };
        let helper = self.probe_read(user);
        let args = vec![dst, Arg::Val(len), Arg::Val(ptr)];
        self.b.call(helper, args);
    }

    /// `kstack`, `kstack(N)`, `ustack(mode, N)`, with mode `bpftrace`, `perf` or `raw`.
    fn stack_call(&mut self, user: bool, args: &[Expr], span: Span) -> Val {
        if !self.arity(if user { "ustack" } else { "kstack" }, args, 0..=2, span) {
            return Val::Void;
        }
        let mut frames = MAX_FRAMES;
        let mut mode = meta::StackMode::Bpftrace;
        for a in args {
            match (&a.kind, self.const_int(a)) {
                (ExprKind::Ident(name), _) if name == "bpftrace" => {}
                (ExprKind::Ident(name), _) if name == "perf" => mode = meta::StackMode::Perf,
                (ExprKind::Ident(name), _) if name == "raw" => mode = meta::StackMode::Raw,
                (_, Some(n)) if (1..=i64::from(MAX_FRAMES)).contains(&n) => frames = n as u32,
                _ => {
                    let msg = format!(
                        "expected a frame count from 1 to {MAX_FRAMES} or a mode: bpftrace, perf or raw"
                    );
                    self.error(msg, a.span, "bad stack argument");
                }
            }
        }
        self.stack(user, frames, mode)
    }

    /// The current kernel or user stack as a stack id (and pid, for user stacks).
    pub(super) fn stack(&mut self, user: bool, frames: u32, mode: meta::StackMode) -> Val {
        self.module.uses_stacks = true;
        let ty = Type::Stack { user, frames, mode };
        let slot = self.value_slot(&ty);
        let flags = if user { USER_STACK } else { 0 };
        let map = self.module.stack_map;
        let ctx = self.ctx;
        let id = self.b.call(
            helpers::GET_STACKID,
            vec![
                Arg::Val(Operand::Reg(ctx)),
                Arg::Map(map),
                Arg::Val(Operand::Imm(flags)),
            ],
        );
        self.store(slot, 0, 8, Operand::Reg(id));
        if user {
            let pid = self.current_pid();
            self.store(slot, 8, 8, Operand::Reg(pid));
        }
        Val::Bytes(slot, ty)
    }

    fn current_pid(&mut self) -> VReg {
        self.helper_half(helpers::GET_CURRENT_PID_TGID, true)
    }

    /// `ksym(addr)` / `usym(addr)`.
    fn sym(&mut self, user: bool, args: &[Expr], span: Span) -> Val {
        if !self.arity(if user { "usym" } else { "ksym" }, args, 1..=1, span) {
            return Val::Void;
        }
        let addr = self.int_operand(&args[0]);
        let ty = Type::Sym { user };
        let slot = self.value_slot(&ty);
        self.store(slot, 0, 8, addr);
        if user {
            let pid = self.current_pid();
            self.store(slot, 8, 8, Operand::Reg(pid));
        }
        Val::Bytes(slot, ty)
    }

    /// `kaddr("symbol")`: the kernel symbol's address, looked up now in /proc/kallsyms.
    fn kaddr(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(name)) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            self.error(
                "kaddr() takes one string literal, the symbol's name",
                span,
                "in this call",
            );
            return Val::zero();
        };
        match kernel_symbol(name) {
            Ok(addr) => Val::Scalar(Operand::Imm(addr as i64), Type::U64),
            Err(msg) if self.module.check_only => {
                self.warn(msg, args[0].span, "resolved when the program runs");
                Val::Scalar(Operand::Imm(0), Type::U64)
            }
            Err(msg) => {
                self.error(msg, args[0].span, "unknown symbol");
                Val::zero()
            }
        }
    }

    /// `uaddr("name")`: the address the probed binary's symbol table gives data object
    /// `name`, as a user pointer to an unsigned integer of the object's size (1, 2, 4 or
    /// 8 bytes; else 8). Uprobes and USDT only.
    fn uaddr(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(name)) = args.first().map(|a| &a.kind).filter(|_| args.len() == 1)
        else {
            let msg = "uaddr() takes one string literal, the symbol's name";
            self.error(msg, span, "in this call");
            return Val::zero();
        };
        let path = match &self.target.attach {
            meta::Attach::Uprobe { path, .. } | meta::Attach::Usdt { path, .. } => path.clone(),
            _ => return Val::zero(),
        };
        let symbol = match crate::probes::elfsyms::data_symbol(&path, name) {
            Ok(Some(found)) => found,
            Ok(None) => {
                let msg = format!("{path} has no data symbol '{name}'");
                self.error(msg, args[0].span, "unknown symbol");
                return Val::zero();
            }
            Err(msg) => {
                self.error(msg, args[0].span, "cannot look it up");
                return Val::zero();
            }
        };
        let size = match symbol.size {
            n @ (1 | 2 | 4) => n as u8,
            _ => 8,
        };
        let pointee = Type::Int {
            size,
            signed: false,
        };
        let ty = Type::Ptr {
            pointee: Box::new(pointee),
            user: true,
        };
        Val::Scalar(Operand::Imm(symbol.address as i64), ty)
    }

    /// `bswap(x)`: the bytes of `x` (1, 2, 4 or 8 of them, as its type says) reversed.
    fn bswap(&mut self, args: &[Expr], span: Span) -> Val {
        if !self.arity("bswap", args, 1..=1, span) {
            return Val::zero();
        }
        let (x, ty) = match self.expr(&args[0]) {
            Val::Scalar(op, ty @ Type::Int { .. }) => (op, ty),
            other => {
                self.error(
                    format!("bswap() needs an integer, found {}", other.ty()),
                    args[0].span,
                    "not an integer",
                );
                return Val::zero();
            }
        };
        let n = ty.size() as i64;
        let x = self.b.reg(x);
        let out = self.b.var(Operand::Imm(0));
        let byte = self.b.vreg();
        for i in 0..n {
            self.b.emit(Inst::Alu {
                dst: byte,
                op: AluOp::LShr,
                lhs: x,
                rhs: Operand::Imm(8 * i),
            });
            self.b.emit(Inst::Alu {
                dst: byte,
                op: AluOp::And,
                lhs: byte,
                rhs: Operand::Imm(0xff),
            });
            self.b.emit(Inst::Alu {
                dst: byte,
                op: AluOp::Shl,
                lhs: byte,
                rhs: Operand::Imm(8 * (n - 1 - i)),
            });
            self.b.emit(Inst::Alu {
                dst: out,
                op: AluOp::Or,
                lhs: out,
                rhs: Operand::Reg(byte),
            });
        }
        let ty = Type::Int {
            size: n as u8,
            signed: false,
        };
        Val::Scalar(Operand::Reg(out), ty)
    }

    /// `elapsed`: nanoseconds since the session started.
    pub(super) fn elapsed(&mut self) -> Val {
        self.module.uses_start = true;
        let now = self.b.call(helpers::KTIME_GET_NS, vec![]);
        let ptr = self.lookup_first(self.module.start_map);
        let (found, done) = (self.fresh_block(), self.fresh_block());
        let start = self.b.var(Operand::Imm(0));
        self.b.branch(Cmp::Ne, ptr, Operand::Imm(0), found, done);
        self.b.emit(Inst::Load {
            dst: start,
            base: Base::Reg(ptr),
            offset: 0,
            size: 8,
            signed: false,
        });
        self.b.jump_to(done);
        let dst = self.b.vreg();
        self.b.emit(Inst::Alu {
            dst,
            op: AluOp::Sub,
            lhs: now,
            rhs: Operand::Reg(start),
        });
        Val::Scalar(Operand::Reg(dst), Type::U64)
    }

    /// `cat(path)`: the runtime prints the file.
    fn cat(&mut self, args: &[Expr], span: Span) -> Val {
        if args.len() > 1 {
            return self.cat_format(args, span);
        }
        if !self.arity("cat", args, 1..=1, span) {
            return Val::Void;
        }
        let Val::Str(path, size) = self.expr(&args[0]) else {
            self.error(
                "cat() needs a string, the file's path",
                args[0].span,
                "not a string",
            );
            return Val::Void;
        };
        let len = size.div_ceil(8) * 8;
        let slot = self.b.slot(8 + len);
        self.store(slot, 0, 8, Operand::Imm(meta::EVENT_CAT as i64));
        self.b.copy(Base::Slot(slot), 8, Base::Slot(path), 0, len);
        self.output(slot, 8 + len);
        Val::Void
    }
}

impl Lower<'_> {
    /// `cat(fmt, args...)`: the path is formatted as printf formats, when the probe runs.
    fn cat_format(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(ExprKind::Str(template)) = args.first().map(|a| &a.kind) else {
            self.error(
                "cat() with arguments needs a string literal path format",
                span,
                "in this call",
            );
            return Val::Void;
        };
        let vals: Vec<Val> = args[1..].iter().map(|a| self.expr(a)).collect();
        if let Err(msg) = super::calls::check_format(template, &vals) {
            self.error(msg, args[0].span, "this format");
            return Val::Void;
        }
        self.printf_vals(template.clone(), &vals, false);
        if let Some(format) = self.module.formats.last_mut() {
            format.cat = true;
        }
        Val::Void
    }
}

/// The address of kernel symbol `name` in /proc/kallsyms.
fn kernel_symbol(name: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/kallsyms")
        .map_err(|e| format!("cannot read /proc/kallsyms: {e}"))?;
    let found = text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let addr = parts.next()?;
        let _kind = parts.next()?;
        (parts.next()? == name).then(|| u64::from_str_radix(addr, 16).ok())?
    });
    match found {
        Some(0) => Err(format!(
            "kernel symbol '{name}' has address 0 in /proc/kallsyms (are you root?)"
        )),
        Some(addr) => Ok(addr),
        None => Err(format!("kernel symbol '{name}' is not in /proc/kallsyms")),
    }
}
