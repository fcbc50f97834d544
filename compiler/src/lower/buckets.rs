//! The bucket a value lands in for `hist()` and `lhist()`, computed when the probe
//! runs. Bucket numbering is that of `ebpfc_stdlib::meta::MapKind::{Hist, Lhist}`.

use super::{Lower, MapSig};
use crate::helpers;
use crate::ir::{AluOp, Arg, Base, Cmp, Inst, Operand, Term, VReg};
use ebpfc_stdlib::meta::MapKind;

/// The most sub-buckets per power of two `hist(v, bits)` accepts, as `bits`.
pub(super) const MAX_HIST_BITS: u32 = 5;

impl Lower<'_> {
    /// hist() bucket with `bits` sub-buckets bits per power of two: 0 for negatives,
    /// `v + 1` for `v < 2 << bits`, else `((p - bits + 1) << bits) + (v >> (p - bits))
    /// - (1 << bits) + 1` where `p = floor(log2(v))`. With `bits` 0 this is 1 for zero
    /// and `log2(v) + 2` otherwise.
    pub(super) fn log2_bucket(&mut self, value: Operand, bits: u32) -> VReg {
        if bits == 0 {
            return self.log2_bucket_k0(value);
        }
        let n = 1i64 << bits;
        let v = self.b.var(value);
        let idx = self.b.var(Operand::Imm(0));
        let (nonneg, big, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::SGe, v, Operand::Imm(0), nonneg, done);
        self.alu(idx, AluOp::Add, v, Operand::Imm(1));
        self.b.branch(Cmp::SGe, v, Operand::Imm(2 * n), big, done);
        let p = self.floor_log2(v);
        // idx = ((p + 1 - bits) << bits) + (v >> (p - bits)) - n + 1
        let shift = self.b.vreg();
        self.alu(shift, AluOp::Sub, p, Operand::Imm(i64::from(bits)));
        let part = self.b.vreg();
        self.alu(part, AluOp::LShr, v, Operand::Reg(shift));
        self.alu(idx, AluOp::Add, shift, Operand::Imm(1));
        self.alu(idx, AluOp::Shl, idx, Operand::Imm(i64::from(bits)));
        self.alu(idx, AluOp::Add, idx, Operand::Reg(part));
        self.alu(idx, AluOp::Sub, idx, Operand::Imm(n - 1));
        self.b.jump_to(done);
        idx
    }

    fn alu(&mut self, dst: VReg, op: AluOp, lhs: VReg, rhs: Operand) {
        self.b.emit(Inst::Alu { dst, op, lhs, rhs });
    }

    /// `floor(log2(v))` of a positive `v`, by halving searches.
    fn floor_log2(&mut self, v: VReg) -> VReg {
        let rest = self.b.var(Operand::Reg(v));
        let p = self.b.var(Operand::Imm(0));
        self.add_log2(rest, p, &[32, 16, 8, 4, 2, 1]);
        p
    }

    /// Adds `floor(log2(rest))` of a positive `rest` to `acc` by halving searches of
    /// `shifts` bits each (which bound the result: `[16, 8, 4, 2, 1]` stops at 31),
    /// shifting `rest` down on the way.
    fn add_log2(&mut self, rest: VReg, acc: VReg, shifts: &[i64]) {
        for &shift in shifts {
            let bit = self.b.vreg();
            self.b.emit(Inst::Set {
                dst: bit,
                cond: Cmp::UGe,
                lhs: rest,
                rhs: Operand::Imm(1i64 << shift),
            });
            self.alu(bit, AluOp::Mul, bit, Operand::Imm(shift));
            self.alu(rest, AluOp::LShr, rest, Operand::Reg(bit));
            self.alu(acc, AluOp::Add, acc, Operand::Reg(bit));
        }
    }

    /// hist() bucket: 0 for negatives, 1 for zero, `log2(v) + 2` otherwise, with
    /// `log2(v)` at most 31 as bpftrace 0.17 computes it (2^31 and above share the
    /// `[2G, 4G)` bucket).
    fn log2_bucket_k0(&mut self, value: Operand) -> VReg {
        let v = self.b.var(value);
        let idx = self.b.var(Operand::Imm(0));
        let (nonneg, positive, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::SGe, v, Operand::Imm(0), nonneg, done);
        self.b.emit(Inst::Mov {
            dst: idx,
            src: Operand::Imm(1),
        });
        self.b.branch(Cmp::Ne, v, Operand::Imm(0), positive, done);
        self.b.emit(Inst::Mov {
            dst: idx,
            src: Operand::Imm(2),
        });
        self.add_log2(v, idx, &[16, 8, 4, 2, 1]);
        self.b.jump_to(done);
        idx
    }

    /// lhist() bucket: 0 below `min`, N+1 at or above `max`, else `(v - min) / step + 1`.
    pub(super) fn linear_bucket(&mut self, value: Operand, min: i64, max: i64, step: i64) -> VReg {
        let v = self.b.reg(value);
        let idx = self.b.var(Operand::Imm(0));
        let (not_low, inside, done) = (self.fresh_block(), self.fresh_block(), self.fresh_block());
        self.b.branch(Cmp::SGe, v, Operand::Imm(min), not_low, done);
        self.b.emit(Inst::Mov {
            dst: idx,
            src: Operand::Imm((max - min) / step + 1),
        });
        self.b.branch(Cmp::SLt, v, Operand::Imm(max), inside, done);
        self.alu(idx, AluOp::Sub, v, Operand::Imm(min));
        self.alu(idx, AluOp::UDiv, idx, Operand::Imm(step));
        self.alu(idx, AluOp::Add, idx, Operand::Imm(1));
        self.b.jump_to(done);
        idx
    }

    /// `delete(@h[key])` of a hist or lhist map: deletes the entry of every bucket the
    /// map can have under `key` (`key` is the map key with its bucket index still free).
    pub(super) fn delete_buckets(&mut self, sig: &MapSig, key: crate::ir::SlotId) {
        let count = match sig.kind {
            MapKind::Hist { bits: 0 } => 34,
            MapKind::Hist { bits } => ((64 - i64::from(bits)) << bits) + 1,
            MapKind::Lhist { min, max, step } => (max - min) / step.max(1) + 2,
            _ => return,
        };
        let offset = (sig.bpf_key_size() - 8) as i32;
        let idx = self.b.var(Operand::Imm(0));
        let (body, done) = (self.fresh_block(), self.fresh_block());
        self.b.jump_to(body);
        self.b.emit(Inst::Store {
            base: Base::Slot(key),
            offset,
            size: 8,
            value: Operand::Reg(idx),
        });
        self.b.call(
            helpers::MAP_DELETE,
            vec![Arg::Map(sig.id), Arg::Slot(key, 0)],
        );
        self.alu(idx, AluOp::Add, idx, Operand::Imm(1));
        let again = Term::Branch {
            cond: Cmp::ULt,
            lhs: idx,
            rhs: Operand::Imm(count),
            then: body,
            otherwise: done,
        };
        self.b.finish(again, done);
    }
}
