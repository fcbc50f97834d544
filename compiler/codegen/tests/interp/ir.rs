//! The reference: IR run as written, with eBPF's arithmetic (division by zero gives 0,
//! modulo by zero keeps the dividend, shifts modulo 64). Slots are separate zeroed
//! buffers; memory behind pointers reads [`super::initial_byte`] until stored to.

use super::{initial_byte, low_bytes, param, Event, Seen, World, CTX, READ_ONLY_HELPERS};
use ebpfc_compiler::ir::{AluOp, Arg, Base, Cmp, Function, Inst, Operand, Term};
use std::collections::HashMap;

struct Machine {
    regs: Vec<u64>,
    slots: Vec<Vec<u8>>,
    heap: HashMap<u64, u8>,
    events: Vec<Event>,
}

/// The events of one run of `f`, or `None` if it runs more than `max_steps` instructions.
pub fn run(f: &Function, world: &mut World, max_steps: usize) -> Option<Vec<Event>> {
    let mut m = Machine {
        regs: vec![0; f.vregs as usize],
        slots: f.slots.iter().map(|s| vec![0; s.size as usize]).collect(),
        heap: HashMap::new(),
        events: Vec::new(),
    };
    let mut block = 0usize;
    let mut steps = 0;
    loop {
        for inst in &f.blocks[block].insts {
            m.inst(inst, world);
            steps += 1;
        }
        if steps > max_steps {
            return None;
        }
        match &f.blocks[block].term {
            Term::Jump(b) => block = b.0 as usize,
            Term::Branch {
                cond,
                lhs,
                rhs,
                then,
                otherwise,
            } => {
                let taken = compare(*cond, m.regs[lhs.0 as usize], m.op(*rhs));
                block = if taken { then.0 } else { otherwise.0 } as usize;
            }
            Term::Return(v) => {
                let v = m.op(*v);
                m.events.push(Event::Return(v));
                return Some(m.events);
            }
        }
    }
}

impl Machine {
    fn op(&self, op: Operand) -> u64 {
        match op {
            Operand::Reg(r) => self.regs[r.0 as usize],
            Operand::Imm(i) => i as u64,
        }
    }

    fn set(&mut self, dst: ebpfc_compiler::ir::VReg, v: u64) {
        self.regs[dst.0 as usize] = v;
    }

    fn inst(&mut self, inst: &Inst, world: &mut World) {
        match inst {
            Inst::Ctx { dst } => self.set(*dst, CTX),
            Inst::Param { dst, index } => self.set(*dst, param(*index)),
            Inst::Mov { dst, src } => self.set(*dst, self.op(*src)),
            Inst::Alu { dst, op, lhs, rhs } => {
                let v = alu(*op, self.regs[lhs.0 as usize], self.op(*rhs));
                self.set(*dst, v);
            }
            Inst::Neg { dst, src } => self.set(*dst, self.regs[src.0 as usize].wrapping_neg()),
            Inst::Ext {
                dst,
                src,
                size,
                signed,
            } => self.set(*dst, extend(self.regs[src.0 as usize], *size, *signed)),
            Inst::Set {
                dst,
                cond,
                lhs,
                rhs,
            } => {
                let v = compare(*cond, self.regs[lhs.0 as usize], self.op(*rhs));
                self.set(*dst, u64::from(v));
            }
            Inst::Load {
                dst,
                base,
                offset,
                size,
                signed,
            } => {
                let v = self.load(*base, *offset, *size);
                self.set(*dst, extend(v, *size, *signed));
            }
            Inst::Store {
                base,
                offset,
                size,
                value,
            } => self.store(*base, *offset, *size, self.op(*value)),
            Inst::Source { .. } => {}
            Inst::Call {
                dst, helper, args, ..
            } => {
                let v = self.call(*helper, args, world);
                if let Some(d) = dst {
                    self.set(*d, v);
                }
            }
        }
    }

    fn load(&self, base: Base, offset: i32, size: u8) -> u64 {
        let mut v = 0u64;
        for i in (0..usize::from(size)).rev() {
            let byte = match base {
                Base::Slot(s) => self.slots[s.0 as usize][offset as usize + i],
                Base::Reg(r) => {
                    let addr = self.regs[r.0 as usize]
                        .wrapping_add(offset as u64)
                        .wrapping_add(i as u64);
                    self.heap
                        .get(&addr)
                        .copied()
                        .unwrap_or_else(|| initial_byte(addr))
                }
            };
            v = (v << 8) | u64::from(byte);
        }
        v
    }

    fn store(&mut self, base: Base, offset: i32, size: u8, value: u64) {
        let bytes = value.to_le_bytes();
        match base {
            Base::Slot(s) => {
                let at = offset as usize;
                self.slots[s.0 as usize][at..at + usize::from(size)]
                    .copy_from_slice(&bytes[..usize::from(size)]);
            }
            Base::Reg(r) => {
                let addr = self.regs[r.0 as usize].wrapping_add(offset as u64);
                for (i, b) in bytes.iter().take(usize::from(size)).enumerate() {
                    self.heap.insert(addr.wrapping_add(i as u64), *b);
                }
                let value = low_bytes(value, size);
                self.events.push(Event::Store { addr, size, value });
            }
        }
    }

    fn call(&mut self, helper: u32, args: &[Arg], world: &mut World) -> u64 {
        let seen = args
            .iter()
            .map(|a| match a {
                Arg::Val(op) => Seen::Val(self.op(*op)),
                Arg::Slot(s, off) => {
                    Seen::Bytes(self.slots[s.0 as usize][*off as usize..].to_vec())
                }
                Arg::Map(m) => Seen::Map(m.0),
                Arg::Func(n) => Seen::Func(*n),
            })
            .collect();
        self.events.push(Event::Call { helper, args: seen });
        let result = world.result();
        if !READ_ONLY_HELPERS.contains(&helper) {
            for a in args {
                if let Arg::Slot(s, off) = a {
                    let slot = &mut self.slots[s.0 as usize][*off as usize..];
                    let bytes = world.bytes(slot.len());
                    slot.copy_from_slice(&bytes);
                }
            }
        }
        result
    }
}

/// `a op b` with eBPF's 64-bit semantics.
pub fn alu(op: AluOp, a: u64, b: u64) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::UDiv => a.checked_div(b).unwrap_or(0),
        AluOp::SDiv if b == 0 => 0,
        AluOp::SDiv => sa.wrapping_div(sb) as u64,
        AluOp::UMod => a.checked_rem(b).unwrap_or(a),
        AluOp::SMod if b == 0 => a,
        AluOp::SMod => sa.wrapping_rem(sb) as u64,
        AluOp::And => a & b,
        AluOp::Or => a | b,
        AluOp::Xor => a ^ b,
        AluOp::Shl => a << (b & 63),
        AluOp::LShr => a >> (b & 63),
        AluOp::AShr => (sa >> (b & 63)) as u64,
    }
}

fn compare(cond: Cmp, a: u64, b: u64) -> bool {
    let (sa, sb) = (a as i64, b as i64);
    match cond {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::ULt => a < b,
        Cmp::ULe => a <= b,
        Cmp::UGt => a > b,
        Cmp::UGe => a >= b,
        Cmp::SLt => sa < sb,
        Cmp::SLe => sa <= sb,
        Cmp::SGt => sa > sb,
        Cmp::SGe => sa >= sb,
    }
}

fn extend(v: u64, size: u8, signed: bool) -> u64 {
    if size >= 8 {
        return v;
    }
    let shift = 64 - 8 * u32::from(size);
    if signed {
        (((v << shift) as i64) >> shift) as u64
    } else {
        (v << shift) >> shift
    }
}
