//! The direct backend's instructions run one at a time, checked against the reference's
//! events as they happen: each helper call must be the next expected call with the same
//! argument values and buffer contents, each store outside the stack the next expected
//! store, and `exit` the expected return value. After a call r1-r5 hold garbage, as
//! after a real helper, so code that keeps values there across calls fails.

use super::{
    initial_byte, low_bytes, param, Event, Seen, World, FUNC_BASE, MAP_BASE, READ_ONLY_HELPERS,
};
use ebpfc_codegen::bytecode::insn::{disassemble, Insn};
use std::collections::HashMap;

const STACK_TOP: u64 = 0x7fff_0000_0000;
const STACK_SIZE: usize = 512;
const POISON: u64 = 0xdead_beef_dead_beef;

struct Machine<'e> {
    regs: [u64; 11],
    stack: [u8; STACK_SIZE],
    heap: HashMap<u64, u8>,
    expected: &'e [Event],
    next: usize,
}

/// The `ld_imm64` instructions that load a map or a callback: by instruction index, the
/// map's or callback's number.
#[derive(Debug, Default)]
pub struct Refs {
    pub maps: HashMap<usize, u32>,
    pub funcs: HashMap<usize, u32>,
}

/// Runs `insns` (the loads of `refs` load its maps and callbacks) against the
/// reference's `expected` events.
pub fn run(
    insns: &[Insn],
    refs: &Refs,
    expected: &[Event],
    world: &mut World,
    max_steps: usize,
) -> Result<(), String> {
    let mut m = Machine {
        regs: [0; 11],
        stack: [0; STACK_SIZE],
        heap: HashMap::new(),
        expected,
        next: 0,
    };
    for r in 1..=5u8 {
        m.regs[usize::from(r)] = param(r - 1);
    }
    m.regs[10] = STACK_TOP;
    let mut pc = 0usize;
    for _ in 0..max_steps {
        let insn = *insns.get(pc).ok_or(format!("pc {pc} ran off the end"))?;
        let step = m.step(insns, pc, refs, world);
        match step.map_err(|e| format!("at {pc}: {insn}: {e}\n{}", disassemble(insns)))? {
            Some(next) => pc = next,
            None => return Ok(()),
        }
    }
    Err("too many steps".into())
}

impl Machine<'_> {
    /// Executes the instruction at `pc`; the next pc, or `None` after `exit`.
    fn step(
        &mut self,
        insns: &[Insn],
        pc: usize,
        refs: &Refs,
        world: &mut World,
    ) -> Result<Option<usize>, String> {
        let i = insns[pc];
        let (dst, src) = (usize::from(i.dst), usize::from(i.src));
        let size = match i.code & 0x18 {
            0x10 => 1,
            0x08 => 2,
            0x00 => 4,
            _ => 8,
        };
        match i.code & 0x07 {
            0x07 | 0x04 => self.alu(i),
            0x01 => {
                let v = self.read(self.regs[src].wrapping_add(i.off as u64), size)?;
                // BPF_MEMSX sign-extends.
                self.regs[dst] = if i.code & 0xe0 == 0x80 {
                    sext(v, 8 * size)
                } else {
                    v
                };
            }
            0x03 => self.write(
                self.regs[dst].wrapping_add(i.off as u64),
                size,
                self.regs[src],
            )?,
            0x02 => self.write(
                self.regs[dst].wrapping_add(i.off as u64),
                size,
                i.imm as u64,
            )?,
            0x00 => {
                let high = insns
                    .get(pc + 1)
                    .ok_or("ld_imm64 without its second half")?;
                self.regs[dst] = match (refs.maps.get(&pc), refs.funcs.get(&pc)) {
                    (Some(m), _) => MAP_BASE + u64::from(*m),
                    (None, Some(f)) => FUNC_BASE + u64::from(*f),
                    _ => u64::from(i.imm as u32) | (u64::from(high.imm as u32) << 32),
                };
                return Ok(Some(pc + 2));
            }
            0x05 => return self.jump(i, pc, world),
            _ => return Err(format!("unknown class of {:#04x}", i.code)),
        }
        Ok(Some(pc + 1))
    }

    fn alu(&mut self, i: Insn) {
        let d = usize::from(i.dst);
        let src = if i.code & 0x08 != 0 {
            self.regs[usize::from(i.src)]
        } else {
            i.imm as i64 as u64
        };
        let a = self.regs[d];
        let wide = i.code & 0x07 == 0x07;
        let signed = i.off == 1;
        let v = match i.code & 0xf0 {
            0x80 => a.wrapping_neg(),
            // movsx: `off` is the width of the source in bits.
            0xb0 if i.off != 0 => sext(src, i.off as u8),
            0xb0 => src,
            0x30 if signed => sdiv(a, src),
            0x90 if signed => smod(a, src),
            op if wide => super::ir::alu(alu_op(op), a, src),
            op => {
                let (a, b) = (u64::from(a as u32), u64::from(src as u32));
                match op {
                    0x60 => a << (b & 31),
                    0x70 => a >> (b & 31),
                    0xc0 => u64::from(((a as u32 as i32) >> (b & 31)) as u32),
                    _ => super::ir::alu(alu_op(op), a, b),
                }
            }
        };
        self.regs[d] = if wide { v } else { u64::from(v as u32) };
    }

    fn jump(&mut self, i: Insn, pc: usize, world: &mut World) -> Result<Option<usize>, String> {
        let target = (pc as i64 + 1 + i64::from(i.off)) as usize;
        let a = self.regs[usize::from(i.dst)];
        let b = if i.code & 0x08 != 0 {
            self.regs[usize::from(i.src)]
        } else {
            i.imm as i64 as u64
        };
        let (sa, sb) = (a as i64, b as i64);
        let taken = match i.code & 0xf0 {
            0x00 => true,
            0x80 => {
                self.call(i.imm as u32, world)?;
                return Ok(Some(pc + 1));
            }
            0x90 => {
                self.expect(Event::Return(self.regs[0]))?;
                return match self.next == self.expected.len() {
                    true => Ok(None),
                    false => Err("exit before the reference's last event".into()),
                };
            }
            0x10 => a == b,
            0x20 => a > b,
            0x30 => a >= b,
            0x50 => a != b,
            0x60 => sa > sb,
            0x70 => sa >= sb,
            0xa0 => a < b,
            0xb0 => a <= b,
            0xc0 => sa < sb,
            0xd0 => sa <= sb,
            op => return Err(format!("unknown jump {op:#x}")),
        };
        Ok(Some(if taken { target } else { pc + 1 }))
    }

    fn expect(&mut self, seen: Event) -> Result<(), String> {
        match self.expected.get(self.next) {
            Some(e) if *e == seen => {
                self.next += 1;
                Ok(())
            }
            e => Err(format!("event {}: expected {e:?}, saw {seen:?}", self.next)),
        }
    }

    fn call(&mut self, helper: u32, world: &mut World) -> Result<(), String> {
        let Some(Event::Call { args, .. }) = self.expected.get(self.next).cloned() else {
            return self.expect(Event::Call {
                helper,
                args: vec![],
            });
        };
        let mut seen = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let reg = self.regs[1 + i];
            seen.push(match arg {
                Seen::Val(_) => Seen::Val(reg),
                Seen::Map(_) => Seen::Map(reg.wrapping_sub(MAP_BASE) as u32),
                Seen::Func(_) => Seen::Func(reg.wrapping_sub(FUNC_BASE) as u32),
                Seen::Bytes(b) => Seen::Bytes(self.stack_bytes(reg, b.len())?.to_vec()),
            });
        }
        self.expect(Event::Call { helper, args: seen })?;
        let result = world.result();
        if !READ_ONLY_HELPERS.contains(&helper) {
            for (i, arg) in args.iter().enumerate() {
                if let Seen::Bytes(b) = arg {
                    let bytes = world.bytes(b.len());
                    self.stack_bytes(self.regs[1 + i], b.len())?
                        .copy_from_slice(&bytes);
                }
            }
        }
        self.regs[0] = result;
        for r in 1..=5 {
            self.regs[r] = POISON;
        }
        Ok(())
    }

    fn stack_bytes(&mut self, addr: u64, len: usize) -> Result<&mut [u8], String> {
        let low = STACK_TOP - STACK_SIZE as u64;
        if addr < low || addr + len as u64 > STACK_TOP {
            return Err(format!("{len} bytes at {addr:#x} are not on the stack"));
        }
        let at = (addr - low) as usize;
        Ok(&mut self.stack[at..at + len])
    }

    fn on_stack(addr: u64) -> bool {
        (STACK_TOP - STACK_SIZE as u64..STACK_TOP).contains(&addr)
    }

    fn read(&mut self, addr: u64, size: u8) -> Result<u64, String> {
        let mut bytes = [0u8; 8];
        if Self::on_stack(addr) {
            bytes[..usize::from(size)].copy_from_slice(self.stack_bytes(addr, size.into())?);
        } else {
            for (i, b) in bytes.iter_mut().take(usize::from(size)).enumerate() {
                let a = addr.wrapping_add(i as u64);
                *b = self
                    .heap
                    .get(&a)
                    .copied()
                    .unwrap_or_else(|| initial_byte(a));
            }
        }
        Ok(u64::from_le_bytes(bytes))
    }

    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<(), String> {
        let bytes = value.to_le_bytes();
        if Self::on_stack(addr) {
            self.stack_bytes(addr, size.into())?
                .copy_from_slice(&bytes[..usize::from(size)]);
            return Ok(());
        }
        for (i, b) in bytes.iter().take(usize::from(size)).enumerate() {
            self.heap.insert(addr.wrapping_add(i as u64), *b);
        }
        self.expect(Event::Store {
            addr,
            size,
            value: low_bytes(value, size),
        })
    }
}

fn alu_op(op: u8) -> ebpfc_compiler::ir::AluOp {
    use ebpfc_compiler::ir::AluOp::*;
    match op {
        0x00 => Add,
        0x10 => Sub,
        0x20 => Mul,
        0x30 => UDiv,
        0x40 => Or,
        0x50 => And,
        0x60 => Shl,
        0x70 => LShr,
        0x90 => UMod,
        0xa0 => Xor,
        _ => AShr,
    }
}

fn sdiv(a: u64, b: u64) -> u64 {
    super::ir::alu(ebpfc_compiler::ir::AluOp::SDiv, a, b)
}

fn smod(a: u64, b: u64) -> u64 {
    super::ir::alu(ebpfc_compiler::ir::AluOp::SMod, a, b)
}

/// The low `bits` of `v`, sign-extended.
fn sext(v: u64, bits: u8) -> u64 {
    let shift = 64 - u32::from(bits);
    (((v << shift) as i64) >> shift) as u64
}
