//! Kernel symbols from `/proc/kallsyms`, resolved as bcc (and so bpftrace) resolves
//! them: an address belongs to the last symbol starting at or below it, whatever that
//! symbol's size, and symbols starting at the same address resolve to the one listed
//! last.
//!
//! Invariant: the table is sorted by address (stably, so ties keep their file order) and
//! holds no symbol at address 0 (as kallsyms shows every address when `kptr_restrict`
//! hides them).

use crate::output::Symbol;

/// Where the kernel lists its symbols.
const KALLSYMS: &str = "/proc/kallsyms";

/// The kernel's symbols, sorted by address.
#[derive(Debug, Default)]
pub(crate) struct KernelSymbols {
    addrs: Vec<u64>,
    names: Vec<Box<str>>,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms`; an unreadable file gives an empty table.
    pub fn load() -> Self {
        std::fs::read(KALLSYMS).map_or_else(|_| Self::default(), |text| Self::parse(&text))
    }

    /// Parses kallsyms lines (`ADDR TYPE NAME [MODULE]`); malformed lines are skipped.
    pub fn parse(text: &[u8]) -> Self {
        let mut symbols: Vec<(u64, Box<str>)> = text
            .split(|&b| b == b'\n')
            .filter_map(parse_line)
            .filter(|(addr, _)| *addr != 0)
            .collect();
        symbols.sort_by_key(|(addr, _)| *addr);
        let (addrs, names) = symbols.into_iter().unzip();
        Self { addrs, names }
    }

    /// The symbol holding `addr` and the offset of `addr` in it.
    pub fn resolve(&self, addr: u64) -> Option<Symbol> {
        let index = self.addrs.partition_point(|&a| a <= addr).checked_sub(1)?;
        Some(Symbol {
            name: self.names[index].to_string(),
            offset: addr - self.addrs[index],
            module: None,
        })
    }
}

/// One kallsyms line: its address and symbol name.
fn parse_line(line: &[u8]) -> Option<(u64, Box<str>)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.split_ascii_whitespace();
    let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
    let _kind = fields.next()?;
    let name = fields.next()?;
    Some((addr, name.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of this machine's `/proc/kallsyms`, out of order, with a module symbol.
    const KALLSYMS_TEXT: &[u8] = b"\
ffffffff816bab70 T vfs_read
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff8220bb00 T __SCT__tp_func_ma_write
ffffffff8220bb08 T _etext
ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]
0000000000000000 A fixed_percpu_data
garbage line
";

    fn name(table: &KernelSymbols, addr: u64) -> String {
        table
            .resolve(addr)
            .map_or_else(|| "?".to_string(), |s| s.name)
    }

    /// bpftrace 0.17 on this machine: `printf("%s|%s|%s|%s|%s|%s\n",
    /// ksym(kaddr("vfs_read")+5), ksym(1), ksym(0xffffffffffffff00),
    /// ksym(0xffffffff81000000), ksym(0xffffffff8220bb10), ksym(0xffffffff8220bb08))`
    /// printed `vfs_read|0x1|ftrace_trampoline|_text|_etext|_etext` (`0x1` is the
    /// renderer's text for an unresolved address).
    #[test]
    fn resolves_like_bpftrace() {
        let table = KernelSymbols::parse(KALLSYMS_TEXT);
        assert_eq!(
            table.resolve(0xffffffff816bab75),
            Some(Symbol {
                name: "vfs_read".into(),
                offset: 5,
                module: None,
            })
        );
        assert_eq!(table.resolve(1), None);
        assert_eq!(table.resolve(0), None);
        assert_eq!(name(&table, 0xffffffffffffff00), "ftrace_trampoline");
        assert_eq!(name(&table, 0xffffffff81000000), "_text");
        assert_eq!(name(&table, 0xffffffff8220bb10), "_etext");
        assert_eq!(name(&table, 0xffffffff8220bb08), "_etext");
    }

    #[test]
    fn an_empty_table_resolves_nothing() {
        assert_eq!(KernelSymbols::parse(b"").resolve(0xffffffff81000000), None);
    }
}
