//! Evaluation of IR operations on constants, with eBPF's semantics (what the emitted
//! instruction would compute at run time): division by zero gives 0, modulo by zero
//! leaves the dividend, shift amounts are taken modulo 64, arithmetic wraps.

use ebpfc_compiler::ir::{AluOp, Cmp};

/// `a op b` as a 64-bit eBPF ALU instruction computes it.
pub fn alu(op: AluOp, a: i64, b: i64) -> i64 {
    let shift = (b & 63) as u32;
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::UDiv if b == 0 => 0,
        AluOp::UDiv => ((a as u64) / (b as u64)) as i64,
        AluOp::SDiv if b == 0 => 0,
        AluOp::SDiv => a.wrapping_div(b),
        AluOp::UMod | AluOp::SMod if b == 0 => a,
        AluOp::UMod => ((a as u64) % (b as u64)) as i64,
        AluOp::SMod => a.wrapping_rem(b),
        AluOp::And => a & b,
        AluOp::Or => a | b,
        AluOp::Xor => a ^ b,
        AluOp::Shl => a.wrapping_shl(shift),
        AluOp::LShr => ((a as u64) >> shift) as i64,
        AluOp::AShr => a >> shift,
    }
}

/// Whether `a op b == b op a`.
pub fn commutative(op: AluOp) -> bool {
    matches!(
        op,
        AluOp::Add | AluOp::Mul | AluOp::And | AluOp::Or | AluOp::Xor
    )
}

/// What `a op c` reduces to for a constant `c`: `Some(None)` for `a` itself,
/// `Some(Some(k))` for the constant `k`, `None` when it does not reduce.
pub fn identity(op: AluOp, c: i64) -> Option<Option<i64>> {
    match (op, c) {
        (AluOp::UDiv | AluOp::SDiv, 0) => Some(Some(0)),
        (AluOp::UMod | AluOp::SMod, 0) => Some(None),
        (AluOp::Mul | AluOp::And, 0) => Some(Some(0)),
        (AluOp::Add | AluOp::Sub | AluOp::Or | AluOp::Xor, 0) => Some(None),
        (AluOp::Shl | AluOp::LShr | AluOp::AShr, c) if c & 63 == 0 => Some(None),
        (AluOp::Mul | AluOp::UDiv | AluOp::SDiv, 1) => Some(None),
        (AluOp::And, -1) => Some(None),
        (AluOp::UMod | AluOp::SMod, 1) => Some(Some(0)),
        _ => None,
    }
}

/// The low `size` bytes of `v`, zero- or sign-extended.
pub fn ext(v: i64, size: u8, signed: bool) -> i64 {
    if size >= 8 {
        return v;
    }
    let shift = 64 - 8 * u32::from(size);
    if signed {
        (v << shift) >> shift
    } else {
        ((v as u64) << shift >> shift) as i64
    }
}

/// `a cond b`.
pub fn cmp(cond: Cmp, a: i64, b: i64) -> bool {
    let (ua, ub) = (a as u64, b as u64);
    match cond {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::ULt => ua < ub,
        Cmp::ULe => ua <= ub,
        Cmp::UGt => ua > ub,
        Cmp::UGe => ua >= ub,
        Cmp::SLt => a < b,
        Cmp::SLe => a <= b,
        Cmp::SGt => a > b,
        Cmp::SGe => a >= b,
    }
}

/// The condition with its operands swapped: `a cond b == b swapped(cond) a`.
pub fn swapped(cond: Cmp) -> Cmp {
    match cond {
        Cmp::Eq => Cmp::Eq,
        Cmp::Ne => Cmp::Ne,
        Cmp::ULt => Cmp::UGt,
        Cmp::ULe => Cmp::UGe,
        Cmp::UGt => Cmp::ULt,
        Cmp::UGe => Cmp::ULe,
        Cmp::SLt => Cmp::SGt,
        Cmp::SLe => Cmp::SGe,
        Cmp::SGt => Cmp::SLt,
        Cmp::SGe => Cmp::SLe,
    }
}

/// The negated condition: `!(a cond b) == a inverted(cond) b`.
pub fn inverted(cond: Cmp) -> Cmp {
    match cond {
        Cmp::Eq => Cmp::Ne,
        Cmp::Ne => Cmp::Eq,
        Cmp::ULt => Cmp::UGe,
        Cmp::ULe => Cmp::UGt,
        Cmp::UGt => Cmp::ULe,
        Cmp::UGe => Cmp::ULt,
        Cmp::SLt => Cmp::SGe,
        Cmp::SLe => Cmp::SGt,
        Cmp::SGt => Cmp::SLe,
        Cmp::SGe => Cmp::SLt,
    }
}

/// Whether `v` fits an instruction's 32-bit immediate (sign-extended to 64 bits).
pub fn fits_imm(v: i64) -> bool {
    i32::try_from(v).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_and_shifts_follow_ebpf() {
        assert_eq!(alu(AluOp::UDiv, 9, 0), 0);
        assert_eq!(alu(AluOp::SMod, 9, 0), 9);
        assert_eq!(alu(AluOp::SDiv, -7, 2), -3);
        assert_eq!(alu(AluOp::SMod, -7, 3), -1);
        assert_eq!(alu(AluOp::SDiv, i64::MIN, -1), i64::MIN);
        assert_eq!(alu(AluOp::Shl, 9, 65), 18);
        assert_eq!(alu(AluOp::LShr, -1, 60), 15);
        assert_eq!(alu(AluOp::AShr, -8, 1), -4);
    }

    #[test]
    fn extension_and_comparison() {
        assert_eq!(ext(-7, 1, false), 249);
        assert_eq!(ext(0xff, 1, true), -1);
        assert_eq!(ext(-1, 4, false), 0xffff_ffff);
        assert!(cmp(Cmp::UGt, -1, 1) && cmp(Cmp::SLt, -1, 1));
        for c in [Cmp::ULt, Cmp::SGe, Cmp::Eq, Cmp::ULe] {
            assert_eq!(cmp(c, 3, -4), cmp(swapped(c), -4, 3));
            assert_eq!(cmp(c, 3, -4), !cmp(inverted(c), 3, -4));
        }
    }
}
