//! Builtin function calls: the dispatch to every function's lowering, the catalogue's
//! arity, `--unsafe` and probe-kind checks, `printf`/`errorf`/`warnf`, `exit`, and the
//! ring-buffer output every event uses. Events go to the ring buffer in the record
//! layouts of `ebpfc_stdlib::meta` (u64 event id first).

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, SlotId, VReg};
use crate::types::{tuple_layout, Type};
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::{catalogue, meta};

/// printf records (with their arguments' own buffers) larger than this are built in
/// the per-CPU scratch buffer rather than on the 512-byte stack.
const BIG_RECORD: u32 = 200;

impl Lower<'_> {
    /// A function call used as an expression or statement.
    pub(super) fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Val {
        if let Some(f) = catalogue::function(name) {
            if let Some(refused) = self.refuse_call(f, args.len(), span) {
                return refused;
            }
        }
        if let Some(v) = self.map_function(name, args, span) {
            return v;
        }
        if let Some(v) = self.value_function(name, args, span) {
            return v;
        }
        if let Some(v) = self.userfmt_function(name, args, span) {
            return v;
        }
        if let Some(v) = self.user_call(name, args, span) {
            return v;
        }
        if let Some(v) = self.variable_call(name, args, span) {
            return v;
        }
        match name {
            "printf" => self.printf(args, span),
            "errorf" | "warnf" => self.diagnostic_printf(name == "errorf", args, span),
            "exit" => self.exit(args, span),
            "debugf" => self.debugf(args, span),
            "unwatch" => self.unwatch(args),
            "str" => self.str_call(args, span),
            "strncmp" => self.strncmp(args, span),
            "strcontains" => self.strcontains(args, span),
            "strlen" => self.strlen(args, span),
            "system" | "signal" | "override" => self.unsafe_action(name, args, span),
            "reg" => self.reg(args, span),
            "uptr" | "kptr" => self.address_space(name == "uptr", args, span),
            "strftime" => self.strftime(args, span),
            "cgroupid" => self.cgroupid(args, span),
            "path" => self.path_call(args, span),
            _ if catalogue::function(name)
                .is_some_and(|f| f.kind == catalogue::Kind::Aggregation) =>
            {
                let msg = format!("{name}() can only be assigned to a map, as in @x = {name}(...)");
                self.error(msg, span, "aggregation outside a map assignment");
                Val::Void
            }
            _ => {
                let names = catalogue::FUNCTIONS.iter().map(|f| f.name);
                let hint = crate::suggest::did_you_mean(name, names)
                    .map(|h| format!("; did you mean '{h}'?"))
                    .unwrap_or_default();
                self.error(
                    format!("unknown function '{name}'{hint}"),
                    span,
                    "unknown function",
                );
                Val::Void
            }
        }
    }

    /// `unwatch(addr)`: asks the runtime to detach the watchpoints on `addr`.
    fn unwatch(&mut self, args: &[Expr]) -> Val {
        let addr = self.int_operand(&args[0]);
        let slot = self.b.slot(16);
        let id = Operand::Imm(meta::EVENT_UNWATCH as i64);
        self.store(slot, 0, 8, id);
        self.store(slot, 8, 8, addr);
        self.output(slot, 16);
        Val::Void
    }

    /// `debugf(fmt, args...)`: the kernel formats it into its trace buffer
    /// (`/sys/kernel/tracing/trace_pipe`) with `bpf_trace_printk`, which takes at most
    /// three integer or string arguments.
    fn debugf(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(fmt) = self.format_literal("debugf", args, span) else {
            return Val::Void;
        };
        let Val::Str(fmt_slot, fmt_size) = self.str_literal(fmt) else {
            unreachable!("a literal is a string")
        };
        let mut call = vec![
            Arg::Slot(fmt_slot, 0),
            Arg::Val(Operand::Imm(i64::from(fmt_size))),
        ];
        for a in &args[1..] {
            call.push(match self.expr(a) {
                Val::Str(slot, _) => Arg::Slot(slot, 0),
                Val::Scalar(op, _) => Arg::Val(op),
                _ => {
                    self.error("debugf() prints integers and strings", a.span, "this value");
                    return Val::Void;
                }
            });
        }
        self.b.call(helpers::TRACE_PRINTK, call);
        Val::Void
    }

    /// `exit([code])`: sends the exit event and ends the probe.
    fn exit(&mut self, args: &[Expr], span: Span) -> Val {
        if args.len() > 1 {
            self.error("exit() takes at most one argument", span, "in this call");
        }
        let code = args
            .first()
            .map_or(Operand::Imm(0), |a| self.int_operand(a));
        self.raise_exited();
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
        self.end_probe();
        Val::Void
    }

    pub(super) fn output(&mut self, slot: SlotId, size: u32) {
        self.output_from(Arg::Slot(slot, 0), size);
    }

    /// Sends `size` bytes at `data` (a stack slot or a map value) to the ring buffer.
    pub(super) fn output_from(&mut self, data: Arg, size: u32) {
        self.module.uses_ringbuf = true;
        let ringbuf = self.module.ringbuf;
        let args = vec![
            Arg::Map(ringbuf),
            data,
            Arg::Val(Operand::Imm(i64::from(size))),
            Arg::Val(Operand::Imm(0)),
        ];
        let result = self.b.call(helpers::RINGBUF_OUTPUT, args);
        self.count_lost(result);
    }

    /// The value of a call the catalogue refuses (wrong number of arguments, or an unsafe
    /// action without `--unsafe`); `None` when it may go on.
    fn refuse_call(&mut self, f: &catalogue::Function, given: usize, span: Span) -> Option<Val> {
        let kind = self.target.attach.kind();
        let misplaced = catalogue::probe_kind_error(&format!("{}()", f.name), &f.probes, kind);
        let refusal = match (f.arity_error(given), misplaced) {
            (Some(msg), _) => (msg, "in this call"),
            (None, Some(msg)) => (msg, "not in this kind of probe"),
            (None, None) if f.unsafe_action && !self.module.allow_unsafe => (
                format!(
                    "{}() is an unsafe action; run with --unsafe to allow it",
                    f.name
                ),
                "needs --unsafe",
            ),
            (None, None) => return None,
        };
        self.error(refusal.0, span, refusal.1);
        Some(match f.kind {
            catalogue::Kind::Value => Val::zero(),
            _ => Val::Void,
        })
    }

    /// Sets the exited flag the probes but BEGIN and END check first (BEGIN runs before
    /// them, and nothing runs after END).
    fn raise_exited(&mut self) {
        if matches!(self.target.attach, meta::Attach::Begin | meta::Attach::End) {
            return;
        }
        self.module.uses_exit = true;
        let flag = self.lookup_first(self.module.exited_map);
        let (set, done) = (self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::Ne, flag, Operand::Imm(0), set, done);
        self.b.emit(Inst::Store {
            base: Base::Reg(flag),
            offset: 0,
            size: 8,
            value: Operand::Imm(1),
        });
        self.b.jump_to(done);
    }

    /// Looks up key 0 of a one-entry array map (counters, scratch, start time).
    pub(super) fn lookup_first(&mut self, map: crate::ir::MapId) -> VReg {
        let key = self.b.slot(8);
        self.b.emit(Inst::Store {
            base: Base::Slot(key),
            offset: 0,
            size: 8,
            value: Operand::Imm(0),
        });
        self.b
            .call(helpers::MAP_LOOKUP, vec![Arg::Map(map), Arg::Slot(key, 0)])
    }

    /// Adds one to the lost-event counter when `result` (of ringbuf_output) is an error.
    fn count_lost(&mut self, result: VReg) {
        let map = crate::ir::MapId(self.module.ringbuf.0 + 1);
        self.count_failure(result, map, 0, None);
    }

    /// Adds one to entry `index` of the per-CPU counter array `map` when `result` (of a
    /// helper) is an error other than `except`.
    pub(super) fn count_failure(
        &mut self,
        result: VReg,
        map: crate::ir::MapId,
        index: i64,
        except: Option<i64>,
    ) {
        let (failed, done) = (self.fresh_block(), self.fresh_block());
        self.b
            .branch(Cmp::Ne, result, Operand::Imm(0), failed, done);
        if let Some(code) = except {
            let counted = self.fresh_block();
            self.b
                .branch(Cmp::Ne, result, Operand::Imm(code), counted, done);
        }
        let key = self.b.slot(8);
        self.b.emit(Inst::Store {
            base: Base::Slot(key),
            offset: 0,
            size: 8,
            value: Operand::Imm(index),
        });
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

    /// The string literal format `args` starts with; an error when there is none.
    fn format_literal<'a>(&mut self, name: &str, args: &'a [Expr], span: Span) -> Option<&'a str> {
        if let Some(ExprKind::Str(fmt)) = args.first().map(|a| &a.kind) {
            return Some(fmt);
        }
        let msg = format!("{name}() needs a string literal format as its first argument");
        self.error(msg, span, "in this call");
        None
    }

    /// `printf(fmt, args...)`: one event with the argument values.
    pub(super) fn printf(&mut self, args: &[Expr], span: Span) -> Val {
        let Some(template) = self.format_literal("printf", args, span) else {
            return Val::Void;
        };
        let index = self.module.formats.len();
        if self.module.big_records.contains(&index) {
            return self.printf_in_scratch(template, &args[0], &args[1..], false);
        }
        let vals: Vec<Val> = args[1..].iter().map(|a| self.expr(a)).collect();
        if let Err(msg) = check_format(template, &vals) {
            self.error(msg, args[0].span, "this format");
            return Val::Void;
        }
        self.printf_vals(template.to_string(), &vals, false);
        Val::Void
    }

    /// `errorf(fmt, ...)` / `warnf(fmt, ...)`: a printf whose text the runtime writes
    /// to stderr as `file:line:col-end: ERROR: text`.
    fn diagnostic_printf(&mut self, error: bool, args: &[Expr], span: Span) -> Val {
        let index = self.module.formats.len();
        let result = self.printf(args, span);
        if let Some(format) = self.module.formats.get_mut(index) {
            let level = if error { "ERROR" } else { "WARNING" };
            let at = source_location(self.module.source.as_ref(), span);
            format.stderr_prefix = Some(format!("{at}: {level}: "));
        }
        result
    }

    /// Sends one printf event of `template` (already checked) with `vals`; with
    /// `system`, the runtime runs the text as a command instead of printing it.
    pub(super) fn printf_vals(&mut self, template: String, vals: &[Val], system: bool) {
        let mut types = vec![Type::U64];
        types.extend(vals.iter().map(|v| v.ty().widened()));
        let (offsets, size) = tuple_layout(&types);
        if self.module.learning && size > BIG_RECORD {
            self.module.big_records.insert(self.module.formats.len());
            self.module.scratch_size = self.module.scratch_size.max(size);
        }
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
                ty: ty.to_meta(&self.module.types),
            })
            .collect();
        self.module.formats.push(meta::Format {
            template,
            args: fields,
            system,
            stderr_prefix: None,
            value: false,
            cat: false,
        });
        self.output(slot, size);
    }
}

/// Checks that the conversions of `template` match the argument values.
pub(super) fn check_format(template: &str, vals: &[Val]) -> Result<(), String> {
    let convs = conversions(template);
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

/// The conversion characters of a printf format, as bpftrace scans it (a `%` that
/// starts no conversion is printed as it stands).
fn conversions(template: &str) -> Vec<char> {
    let found = ebpfc_stdlib::format::conversions(template.as_bytes(), true);
    found.into_iter().map(|(_, c)| char::from(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_conversions() {
        assert_eq!(
            conversions("%d %s %5d|%-5s|%x %u %c %llu\n"),
            vec!['d', 's', 'd', 's', 'x', 'u', 'c', 'u']
        );
        // bpftrace prints a `%` that starts no conversion as it stands.
        assert!(conversions("%q 100% done %5").is_empty());
    }
}

/// `name:line:col-end` of `span` (1-based, `end` exclusive, on the span's first line),
/// or `byte N` without the source.
fn source_location(source: Option<&(String, String)>, span: Span) -> String {
    let Some((name, text)) = source else {
        return format!("byte {}", span.start);
    };
    let start = (span.start as usize).min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..start].chars().count() + 1;
    let end = (span.end as usize).clamp(start, text.len());
    let line_end = text[start..end].find('\n').map_or(end, |i| start + i);
    let end_col = col + text[start..line_end].chars().count();
    // bpftrace names a program given with -e or on stdin `stdin`.
    let name = if name == "<stdin>" { "stdin" } else { name };
    format!("{name}:{line}:{col}-{end_col}")
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn locations_are_one_based_with_exclusive_ends() {
        let source = (
            "stdin".to_string(),
            "BEGIN {\n  errorf(\"x\");\n}".to_string(),
        );
        let at = |start: usize, end: usize| source_location(Some(&source), Span::new(start, end));
        assert_eq!(at(10, 21), "stdin:2:3-14");
        assert_eq!(at(0, 5), "stdin:1:1-6");
        assert_eq!(source_location(None, Span::new(4, 9)), "byte 4");
    }
}
