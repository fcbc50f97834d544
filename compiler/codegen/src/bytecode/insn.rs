//! eBPF instructions: construction, encoding to the 8-byte wire format, and a readable
//! disassembly (`--dump asm`). Opcode constants come from the ISA (aya-obj's generated
//! bindings hold the same values).

use std::fmt;

pub const R0: u8 = 0;
pub const R1: u8 = 1;
pub const R2: u8 = 2;
pub const R10: u8 = 10;

// Instruction classes.
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const JMP: u8 = 0x05;
const ALU: u8 = 0x04;
const ALU64: u8 = 0x07;
// Sources and modes.
const K: u8 = 0x00;
const X: u8 = 0x08;
const IMM: u8 = 0x00;
const MEM: u8 = 0x60;
/// Sign-extending load (ISA v4).
const MEMSX: u8 = 0x80;
const DW: u8 = 0x18;

/// ALU operation codes (high nibble).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    Add = 0x00,
    Sub = 0x10,
    Mul = 0x20,
    Div = 0x30,
    Or = 0x40,
    And = 0x50,
    Lsh = 0x60,
    Rsh = 0x70,
    Neg = 0x80,
    Mod = 0x90,
    Xor = 0xa0,
    Mov = 0xb0,
    Arsh = 0xc0,
}

/// Jump condition codes (high nibble).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jmp {
    Ja = 0x00,
    Jeq = 0x10,
    Jgt = 0x20,
    Jge = 0x30,
    Jne = 0x50,
    Jsgt = 0x60,
    Jsge = 0x70,
    Call = 0x80,
    Exit = 0x90,
    Jlt = 0xa0,
    Jle = 0xb0,
    Jslt = 0xc0,
    Jsle = 0xd0,
}

/// `ld_imm64` source register of a map reference (`BPF_PSEUDO_MAP_FD`).
pub const PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` source register of a subprogram's address (`BPF_PSEUDO_FUNC`).
pub const PSEUDO_FUNC: u8 = 4;

/// One 8-byte instruction slot (`ld_imm64` takes two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

/// Memory access width in bytes to the ISA size bits.
fn size_bits(size: u8) -> u8 {
    match size {
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        _ => DW,
    }
}

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    pub fn alu_imm(op: Alu, dst: u8, imm: i32) -> Insn {
        Insn::new(ALU64 | op as u8 | K, dst, 0, 0, imm)
    }

    pub fn alu_reg(op: Alu, dst: u8, src: u8) -> Insn {
        Insn::new(ALU64 | op as u8 | X, dst, src, 0, 0)
    }

    /// Signed division or modulo (`off = 1`).
    pub fn alu_signed(op: Alu, dst: u8, src: Option<u8>, imm: i32) -> Insn {
        let mut i = match src {
            Some(s) => Insn::alu_reg(op, dst, s),
            None => Insn::alu_imm(op, dst, imm),
        };
        i.off = 1;
        i
    }

    /// 32-bit register move (zero-extends into the upper half).
    pub fn mov32(dst: u8, src: u8) -> Insn {
        Insn::new(ALU | Alu::Mov as u8 | X, dst, src, 0, 0)
    }

    pub fn mov(dst: u8, src: u8) -> Insn {
        Insn::alu_reg(Alu::Mov, dst, src)
    }

    pub fn mov_imm(dst: u8, imm: i32) -> Insn {
        Insn::alu_imm(Alu::Mov, dst, imm)
    }

    /// `ld_imm64`: two slots; `src` is [`PSEUDO_MAP_FD`] for a map reference,
    /// [`PSEUDO_FUNC`] for a callback's address.
    pub fn ld_imm64(dst: u8, src: u8, value: i64) -> [Insn; 2] {
        [
            Insn::new(LD | IMM | DW, dst, src, 0, value as i32),
            Insn::new(0, 0, 0, 0, (value >> 32) as i32),
        ]
    }

    pub fn load(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(LDX | MEM | size_bits(size), dst, src, off, 0)
    }

    /// A load of `size` < 8 bytes, sign-extended to 64 bits (ISA v4).
    pub fn load_signed(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(LDX | MEMSX | size_bits(size), dst, src, off, 0)
    }

    /// `dst = src` with the low `size` < 8 bytes of `src` sign-extended (ISA v4 `movsx`).
    pub fn mov_signed(dst: u8, src: u8, size: u8) -> Insn {
        let mut i = Insn::mov(dst, src);
        i.off = 8 * i16::from(size);
        i
    }

    pub fn store(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(STX | MEM | size_bits(size), dst, src, off, 0)
    }

    pub fn store_imm(size: u8, dst: u8, off: i16, imm: i32) -> Insn {
        Insn::new(ST | MEM | size_bits(size), dst, 0, off, imm)
    }

    pub fn jmp_imm(op: Jmp, dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(JMP | op as u8 | K, dst, 0, off, imm)
    }

    pub fn jmp_reg(op: Jmp, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(JMP | op as u8 | X, dst, src, off, 0)
    }

    pub fn call(helper: u32) -> Insn {
        Insn::new(JMP | Jmp::Call as u8, 0, 0, 0, helper as i32)
    }

    pub fn exit() -> Insn {
        Insn::new(JMP | Jmp::Exit as u8, 0, 0, 0, 0)
    }

    pub fn is_jump(&self) -> bool {
        self.code & 0x07 == JMP && !matches!(self.code & 0xf0, 0x80 | 0x90)
    }

    /// Little-endian wire format.
    pub fn encode(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0] = self.code;
        out[1] = (self.src << 4) | (self.dst & 0x0f);
        out[2..4].copy_from_slice(&self.off.to_le_bytes());
        out[4..8].copy_from_slice(&self.imm.to_le_bytes());
        out
    }
}

/// Disassembles a program, one instruction per line with its index.
pub fn disassemble(insns: &[Insn]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.code == LD | IMM | DW && i + 1 < insns.len() {
            let value = (u64::from(insns[i + 1].imm as u32) << 32) | u64::from(insn.imm as u32);
            let what = match insn.src {
                PSEUDO_MAP_FD => "map".to_string(),
                PSEUDO_FUNC => "callback".to_string(),
                _ => format!("{:#x}", value),
            };
            out.push_str(&format!("{i:4}: r{} = {what} ll\n", insn.dst));
            i += 2;
            continue;
        }
        out.push_str(&format!("{i:4}: {insn}\n"));
        i += 1;
    }
    out
}

fn alu_symbol(op: u8) -> &'static str {
    match op {
        0x00 => "+=",
        0x10 => "-=",
        0x20 => "*=",
        0x30 => "/=",
        0x40 => "|=",
        0x50 => "&=",
        0x60 => "<<=",
        0x70 => ">>=",
        0x90 => "%=",
        0xa0 => "^=",
        0xb0 => "=",
        0xc0 => "s>>=",
        _ => "?=",
    }
}

fn jmp_symbol(op: u8) -> &'static str {
    match op {
        0x10 => "==",
        0x20 => ">",
        0x30 => ">=",
        0x50 => "!=",
        0x60 => "s>",
        0x70 => "s>=",
        0xa0 => "<",
        0xb0 => "<=",
        0xc0 => "s<",
        0xd0 => "s<=",
        _ => "?",
    }
}

fn width(code: u8) -> &'static str {
    match code & 0x18 {
        0x10 => "u8",
        0x08 => "u16",
        0x00 => "u32",
        _ => "u64",
    }
}

impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (class, op) = (self.code & 0x07, self.code & 0xf0);
        let operand = |x: bool| {
            if x {
                format!("r{}", self.src)
            } else {
                self.imm.to_string()
            }
        };
        let x = self.code & X != 0;
        match class {
            ALU64 | ALU if op == Alu::Neg as u8 => write!(f, "r{} = -r{}", self.dst, self.dst),
            ALU64 if op == Alu::Mov as u8 && x && self.off != 0 => {
                write!(f, "r{} = (s{})r{}", self.dst, self.off, self.src)
            }
            ALU64 | ALU => {
                let reg = if class == ALU { "w" } else { "r" };
                let sym = alu_symbol(op);
                let sym = if self.off == 1 {
                    sym.replacen('/', "s/", 1).replacen('%', "s%", 1)
                } else {
                    sym.to_string()
                };
                let src = if x && class == ALU {
                    format!("w{}", self.src)
                } else {
                    operand(x)
                };
                write!(f, "{reg}{} {sym} {src}", self.dst)
            }
            LDX => {
                let width = width(self.code);
                let width = match self.code & 0xe0 {
                    MEMSX => width.replacen('u', "s", 1),
                    _ => width.to_string(),
                };
                let (dst, src, off) = (self.dst, self.src, self.off);
                write!(f, "r{dst} = *({width} *)(r{src} {off:+})")
            }
            STX => write!(
                f,
                "*({} *)(r{} {:+}) = r{}",
                width(self.code),
                self.dst,
                self.off,
                self.src
            ),
            ST => write!(
                f,
                "*({} *)(r{} {:+}) = {}",
                width(self.code),
                self.dst,
                self.off,
                self.imm
            ),
            JMP if op == Jmp::Call as u8 => write!(f, "call {}", self.imm),
            JMP if op == Jmp::Exit as u8 => write!(f, "exit"),
            JMP if op == Jmp::Ja as u8 => write!(f, "goto {:+}", self.off),
            JMP => write!(
                f,
                "if r{} {} {} goto {:+}",
                self.dst,
                jmp_symbol(op),
                operand(x),
                self.off
            ),
            _ => write!(f, "<{:#04x}>", self.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_registers_and_immediates() {
        let insn = Insn::store_imm(8, R10, -8, 7);
        assert_eq!(insn.encode(), [0x7a, 0x0a, 0xf8, 0xff, 7, 0, 0, 0]);
        assert_eq!(Insn::mov(6, 1).encode()[1], 0x16);
    }

    #[test]
    fn disassembles_readably() {
        let mut prog = vec![Insn::mov(6, 1), Insn::jmp_imm(Jmp::Jne, 0, 0, 2)];
        prog.extend(Insn::ld_imm64(1, 1, 0));
        prog.push(Insn::exit());
        let text = disassemble(&prog);
        assert!(text.contains("0: r6 = r1"));
        assert!(text.contains("1: if r0 != 0 goto +2"));
        assert!(text.contains("2: r1 = map ll"));
        assert!(text.contains("4: exit"));
    }

    #[test]
    fn sign_extending_loads_and_moves_are_v4_encodings() {
        let load = Insn::load_signed(4, 1, 6, 24);
        assert_eq!(load.encode()[0], 0x81);
        assert_eq!(load.to_string(), "r1 = *(s32 *)(r6 +24)");
        let mov = Insn::mov_signed(3, 4, 2);
        assert_eq!((mov.encode()[0], mov.off), (0xbf, 16));
        assert_eq!(mov.to_string(), "r3 = (s16)r4");
    }
}
