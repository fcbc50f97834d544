//! What rendering needs from outside the record: the frames behind a stack id, the
//! symbol holding an address, and the wall-clock text of a `strftime()` time.
//!
//! The renderer only asks; the session answers from the loaded stack map,
//! `/proc/kallsyms`, the ELF files of running processes (`crate::symbols`) and the
//! metadata's strings with the clocks, and tests answer from fixed tables. A question
//! that cannot be answered gets `None`, which the renderer prints as bpftrace does (an
//! empty stack, a hex address; a time as its raw nanoseconds).

/// A symbol found for an address: its name and the address's offset into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub offset: u64,
    /// The file holding a user symbol, as the process maps it.
    pub module: Option<String>,
}

/// Answers the renderer's questions about stacks and addresses.
pub trait Symbols {
    /// The instruction pointers stored under stack id `id` in the stack map, innermost
    /// first, up to (not including) the first zero; `None` when there is no such stack.
    fn stack(&self, id: i64) -> Option<Vec<u64>>;

    /// The kernel symbol holding `addr`.
    fn kernel_symbol(&self, addr: u64) -> Option<Symbol>;

    /// The symbols holding each of `addrs` in the address space of process `pid`.
    fn user_symbols(&self, pid: u32, addrs: &[u64]) -> Vec<Option<Symbol>>;

    /// The text of `strftime(fmt, ns)`: `ns` of CLOCK_MONOTONIC as the local wall-clock
    /// time, formatted with string `format` of the metadata (`%f` is microseconds).
    fn time(&self, _format: u32, _ns: u64) -> Option<Vec<u8>> {
        None
    }

    /// The text of `cgroup_path(id, filter)`, `filter` being string `filter` of the
    /// metadata.
    fn cgroup_path(&self, _filter: u32, _id: u64) -> Option<Vec<u8>> {
        None
    }
}

/// Resolves nothing: every stack is missing and every address unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSymbols;

impl Symbols for NoSymbols {
    fn stack(&self, _id: i64) -> Option<Vec<u64>> {
        None
    }

    fn kernel_symbol(&self, _addr: u64) -> Option<Symbol> {
        None
    }

    fn user_symbols(&self, _pid: u32, addrs: &[u64]) -> Vec<Option<Symbol>> {
        vec![None; addrs.len()]
    }
}
