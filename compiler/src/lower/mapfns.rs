//! Functions over whole maps or entries: `delete`, `clear`, `zero`, `print`, and
//! `time`. `delete` runs in the kernel; the others send an event the runtime acts on
//! (record layouts in `ebpfc_stdlib::meta`). `len` is lowered with the loops over maps,
//! in `mapfor`.

use super::{Lower, Val};
use crate::helpers;
use crate::ir::{Arg, Base, Inst, Operand};
use ebpfc_parser::ast::{Expr, ExprKind};
use ebpfc_parser::span::Span;
use ebpfc_stdlib::meta;

impl Lower<'_> {
    /// Lowers a map function call if `name` is one.
    pub(super) fn map_function(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Val> {
        match name {
            "has_key" => return Some(self.has_key(args, span)),
            "len" => return Some(self.len(args, span)),
            "delete" => self.delete(args, span),
            "clear" | "zero" => {
                let id = if name == "clear" {
                    meta::EVENT_CLEAR
                } else {
                    meta::EVENT_ZERO
                };
                self.whole_map_event(name, id, args, span);
            }
            "print" => self.print(args, span),
            "time" => self.time(args, span),
            _ => return None,
        }
        Some(Val::Void)
    }

    /// `has_key(@m, k...)`: 1 when the map holds the key, else 0.
    fn has_key(&mut self, args: &[Expr], span: Span) -> Val {
        let Some((ExprKind::Map { name, keys }, rest)) =
            args.split_first().map(|(m, r)| (&m.kind, r))
        else {
            self.error(
                "has_key() takes a map and a key, as in has_key(@m, 1)",
                span,
                "in this call",
            );
            return Val::zero();
        };
        let keys: Vec<Expr> = if rest.is_empty() {
            keys.clone()
        } else {
            rest.to_vec()
        };
        let Some(sig) = self.known_map(&self.map_name(name), span) else {
            return Val::zero();
        };
        let (_, vals) = self.key_vals(&keys);
        let key = self.build_key(&sig, &vals, None);
        let ptr = self.b.call(
            helpers::MAP_LOOKUP,
            vec![Arg::Map(sig.id), Arg::Slot(key, 0)],
        );
        let dst = self.b.vreg();
        self.b.emit(Inst::Set {
            dst,
            cond: crate::ir::Cmp::Ne,
            lhs: ptr,
            rhs: Operand::Imm(0),
        });
        Val::Scalar(Operand::Reg(dst), crate::types::Type::Bool)
    }

    /// The map index of `@name` (as the runtime numbers `Metadata::maps`).
    fn map_index(&mut self, e: &Expr) -> Option<(u64, Vec<Expr>)> {
        let ExprKind::Map { name, keys } = &e.kind else {
            self.error("expected a map such as @m", e.span, "not a map");
            return None;
        };
        let name = self.map_name(name);
        match self.module.maps.get(&name) {
            Some(sig) => Some((u64::from(sig.id.0), keys.clone())),
            None => {
                if !self.module.learning {
                    self.error(
                        format!("map {name} is used but never assigned"),
                        e.span,
                        "undefined map",
                    );
                }
                None
            }
        }
    }

    /// `delete(@m[k])` or `delete(@m, k)`.
    fn delete(&mut self, args: &[Expr], span: Span) {
        let Some(first) = args.first() else {
            self.error(
                "delete() needs a map entry, as in delete(@m[key])",
                span,
                "in this call",
            );
            return;
        };
        let ExprKind::Map { name, keys } = &first.kind else {
            self.error(
                "delete() needs a map entry, as in delete(@m[key])",
                first.span,
                "not a map",
            );
            return;
        };
        if args.len() > 1 && !keys.is_empty() {
            self.error(
                "delete() takes one entry, delete(@m[key]), or a map and its key, delete(@m, key)",
                span,
                "two entries",
            );
            return;
        }
        let keys: Vec<Expr> = if args.len() > 1 {
            args[1..].to_vec()
        } else {
            keys.clone()
        };
        let Some(sig) = self.module.maps.get(&self.map_name(name)).cloned() else {
            return;
        };
        if keys.is_empty() != sig.key.is_none() {
            let msg = match sig.key {
                Some(_) => format!(
                    "{} has keys: delete one entry with delete({}[key]), or all with clear({})",
                    sig.name, sig.name, sig.name
                ),
                None => format!(
                    "{} has no keys: delete it with delete({})",
                    sig.name, sig.name
                ),
            };
            self.error(msg, first.span, "key count");
            return;
        }
        let (_, vals) = self.key_vals(&keys);
        let key = self.build_key(&sig, &vals, None);
        if matches!(
            sig.kind,
            meta::MapKind::Hist { .. } | meta::MapKind::Lhist { .. }
        ) {
            self.delete_buckets(&sig, key);
            return;
        }
        self.b.call(
            helpers::MAP_DELETE,
            vec![Arg::Map(sig.id), Arg::Slot(key, 0)],
        );
    }

    fn whole_map_event(&mut self, name: &str, id: u64, args: &[Expr], span: Span) {
        let [map] = args else {
            self.error(
                format!("{name}() takes one map, as in {name}(@m)"),
                span,
                "in this call",
            );
            return;
        };
        if matches!(&map.kind, ExprKind::Map { keys, .. } if !keys.is_empty()) {
            let msg = format!("{name}() takes a whole map, not one entry: {name}(@m)");
            self.error(msg, map.span, "indexed by a key");
            return;
        }
        let Some((index, _)) = self.map_index(map) else {
            return;
        };
        self.send_event(&[id as i64, index as i64]);
    }

    /// `print(@m [, top [, div]])`
    fn print(&mut self, args: &[Expr], span: Span) {
        let whole_map =
            |a: &&Expr| matches!(&a.kind, ExprKind::Map { keys, .. } if keys.is_empty());
        let Some(map) = args.first().filter(whole_map) else {
            return self.print_value(args, span);
        };
        let Some((index, _)) = self.map_index(map) else {
            return;
        };
        let mut words = vec![meta::EVENT_PRINT as i64, index as i64, 0, 0];
        for (i, arg) in args.iter().enumerate().skip(1).take(2) {
            match self.const_int(arg) {
                Some(v) if v >= 0 => words[i + 1] = v,
                _ => self.error(
                    "print() top and div must be non-negative integer literals",
                    arg.span,
                    "here",
                ),
            }
        }
        self.send_event(&words);
    }

    /// `time([fmt])`
    fn time(&mut self, args: &[Expr], span: Span) {
        let format = match args.first().map(|a| &a.kind) {
            None => "%H:%M:%S\n".to_string(),
            Some(ExprKind::Str(s)) => s.clone(),
            Some(_) => {
                self.error("time() takes a string literal format", span, "in this call");
                return;
            }
        };
        let index = self.module.strings.len() as i64;
        self.module.strings.push(format);
        self.send_event(&[meta::EVENT_TIME as i64, index]);
    }

    /// Sends a record of u64 words to the runtime.
    fn send_event(&mut self, words: &[i64]) {
        let size = words.len() as u32 * 8;
        let slot = self.b.slot(size);
        for (i, w) in words.iter().enumerate() {
            let offset = i as i32 * 8;
            self.b.emit(Inst::Store {
                base: Base::Slot(slot),
                offset,
                size: 8,
                value: Operand::Imm(*w),
            });
        }
        self.output(slot, size);
    }
}
