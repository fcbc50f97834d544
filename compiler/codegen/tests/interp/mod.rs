//! Two interpreters that run one program against the same simulated world: [`ir`] runs
//! IR (the reference), [`ebpf`] runs the instructions the direct backend emits. What the
//! world sees is a list of [`Event`]s: helper calls with their arguments (stack buffers
//! by content), stores through pointers, and the return value. Helper results and the
//! bytes helpers write come from one seeded stream, drawn in call order, so two correct
//! translations of a program produce the same events.

#![allow(dead_code)]

pub mod ebpf;
pub mod ir;

/// The context pointer a program receives.
pub const CTX: u64 = 0x4000_0000;
/// Where callback `n`'s address is: `FUNC_BASE + n`.
pub const FUNC_BASE: u64 = 0x6600_0000;

/// The value of argument register `r1 + index` on entry (the context for r1).
pub fn param(index: u8) -> u64 {
    CTX + u64::from(index) * 0x0100_0000
}
/// Where map `i` is: `MAP_BASE + i`.
pub const MAP_BASE: u64 = 0x7700_0000;
/// Helpers that only read the buffers passed to them; every other helper overwrites each
/// buffer argument from its offset to the end of its slot.
pub const READ_ONLY_HELPERS: [u32; 5] = [1, 2, 3, 25, 130];

/// One argument of a helper call as the world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Val(u64),
    /// A stack buffer: its bytes from the pointer to the end of its slot.
    Bytes(Vec<u8>),
    Map(u32),
    /// A callback's address.
    Func(u32),
}

/// Something the program did that the world sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Call {
        helper: u32,
        args: Vec<Seen>,
    },
    /// A store through a pointer (not to the stack); `value` holds the stored bytes.
    Store {
        addr: u64,
        size: u8,
        value: u64,
    },
    Return(u64),
}

/// The world's seeded stream of helper results and written bytes.
pub struct World(u64);

impl World {
    pub fn new(seed: u64) -> World {
        World(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A helper's result: often null or a small error code, sometimes a pointer.
    pub fn result(&mut self) -> u64 {
        match self.next() % 4 {
            0 => 0,
            1 => (self.next() % 24).wrapping_sub(20),
            2 => 0x1000_0000 + (self.next() % 4096) * 8,
            _ => self.next(),
        }
    }

    /// The bytes a helper writes into a buffer of `len` bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// The byte at `addr` outside the stack before anything stored there.
pub fn initial_byte(addr: u64) -> u8 {
    (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

/// The low `size` bytes of `v`.
pub fn low_bytes(v: u64, size: u8) -> u64 {
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (8 * u32::from(size))) - 1)
    }
}
