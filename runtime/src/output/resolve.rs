//! The values whose printed form is not in their bytes alone, decoded and formatted as
//! bpftrace 0.17 prints them: `ntop()` addresses, `buf()` contents, stacks and symbols,
//! user names, `strerror()` messages and `macaddr()` addresses.
//!
//! Invariants: nothing here fails; a field cut short reads as zeros, a stack id that
//! cannot be looked up prints as nothing (bpftrace prints an empty string), and an
//! address without a symbol prints as C++ streams print a `void *` (`0`, or `0x` and
//! lowercase hex).

use std::net::{Ipv4Addr, Ipv6Addr};

use ebpfc_stdlib::meta::StackMode;

use super::decode::{read_i64, read_u64};
use super::symbols::{Symbol, Symbols};

const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;

/// Spaces before each frame of a stack printed in a map key.
pub(super) const KEY_INDENT: usize = 4;
/// Spaces before each frame of a stack printed as a value or by printf.
pub(super) const VALUE_INDENT: usize = 8;

/// The text of an `inet` value at `offset` (family u64, then the address bytes): a
/// dotted quad, glibc `inet_ntop`'s IPv6 form, or nothing for another family.
pub(super) fn inet(bytes: &[u8], offset: usize) -> Vec<u8> {
    let byte = |i: usize| bytes.get(offset + 8 + i).copied().unwrap_or(0);
    let text = match read_u64(bytes, offset, 8) {
        AF_INET => Ipv4Addr::from(std::array::from_fn::<u8, 4, _>(byte)).to_string(),
        AF_INET6 => ipv6_text(Ipv6Addr::from(std::array::from_fn::<u8, 16, _>(byte))),
        _ => String::new(),
    };
    text.into_bytes()
}

/// glibc's `inet_ntop` text of an IPv6 address: RFC 5952 (as `std` prints it), except
/// that an address whose first six groups are zero and seventh is not ends in a dotted
/// quad (`::1.2.3.4`), as glibc still writes IPv4-compatible addresses.
pub(super) fn ipv6_text(addr: Ipv6Addr) -> String {
    let groups = addr.segments();
    if groups[..6] == [0; 6] && groups[6] != 0 {
        let [.., a, b, c, d] = addr.octets();
        return format!("::{}", Ipv4Addr::new(a, b, c, d));
    }
    addr.to_string()
}

/// The data of a `buf` value of `size` bytes at `offset` (u64 length, then the data);
/// the length is capped by the size and by the bytes present.
pub(super) fn buf(bytes: &[u8], offset: usize, size: u32) -> Vec<u8> {
    let len = read_u64(bytes, offset, 8).min(u64::from(size)) as usize;
    let start = offset.saturating_add(8).min(bytes.len());
    let end = start.saturating_add(len).min(bytes.len());
    bytes[start..end].to_vec()
}

/// How `buf` data is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HexMode {
    /// `%r` and map values: printable ASCII as itself, other bytes as `\xNN`.
    Ascii,
    /// `%rx`: every byte as `\xNN`.
    Escaped,
    /// `%rh`: every byte as `NN`, separated by spaces.
    Spaced,
}

/// bpftrace's `hex_format_buffer`: `data` as text in `mode`, hex digits in lowercase.
pub(super) fn hex_buffer(data: &[u8], mode: HexMode) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4);
    for (i, &b) in data.iter().enumerate() {
        match mode {
            HexMode::Ascii if (32..=126).contains(&b) => out.push(b),
            HexMode::Ascii | HexMode::Escaped => out.extend(format!("\\x{b:02x}").bytes()),
            HexMode::Spaced => {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend(format!("{b:02x}").bytes());
            }
        }
    }
    out
}

/// The printed lines of a stack.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Frames {
    pub lines: Vec<String>,
    /// Whether each line is indented by the context's indentation (else it is
    /// printed as it is).
    pub indented: bool,
}

/// The frames of a `kstack`/`ustack` value at `offset` (i64 stack id, then the u64 pid
/// of user stacks), at most `limit` of them, each formatted as `mode` says; `None`
/// when the id is negative (no stack was taken) or not in the stack map.
pub(super) fn stack(
    (user, limit, mode): (bool, u32, StackMode),
    bytes: &[u8],
    offset: usize,
    syms: &dyn Symbols,
) -> Option<Frames> {
    let id = read_i64(bytes, offset);
    if id < 0 {
        return None;
    }
    let mut ips = syms.stack(id)?;
    if let Some(zero) = ips.iter().position(|&ip| ip == 0) {
        ips.truncate(zero);
    }
    ips.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let found = if user {
        user_symbols(syms, bytes, offset, &ips)
    } else {
        ips.iter().map(|&ip| syms.kernel_symbol(ip)).collect()
    };
    let lines = ips
        .iter()
        .zip(found)
        .map(|(&ip, symbol)| frame_line(ip, symbol, user, mode));
    Some(Frames {
        lines: lines.collect(),
        indented: mode == StackMode::Bpftrace,
    })
}

/// One frame as `mode` prints it.
fn frame_line(ip: u64, symbol: Option<Symbol>, user: bool, mode: StackMode) -> String {
    let named = symbol.as_ref().map(|s| format!("{}+{}", s.name, s.offset));
    match mode {
        StackMode::Bpftrace => named.unwrap_or_else(|| address_text(ip)),
        StackMode::Raw => format!("{ip:x}"),
        StackMode::Perf => {
            let name = named.unwrap_or_else(|| address_text(ip));
            let module = symbol.and_then(|s| s.module);
            match (user, module) {
                (false, _) => format!("\t{ip:x} {name}"),
                (true, Some(module)) => format!("\t{ip:x} {name} ({module})"),
                (true, None) => format!("\t{ip:x} {name} ([unknown])"),
            }
        }
    }
}

/// The text of a `ksym`/`usym` value at `offset` (u64 address, then the u64 pid of user
/// addresses): the name of the symbol holding the address, or the address.
pub(super) fn sym(user: bool, bytes: &[u8], offset: usize, syms: &dyn Symbols) -> Vec<u8> {
    let addr = read_u64(bytes, offset, 8);
    let found = if user {
        user_symbols(syms, bytes, offset, &[addr]).pop().flatten()
    } else {
        syms.kernel_symbol(addr)
    };
    found
        .map_or_else(|| address_text(addr), |s| s.name)
        .into_bytes()
}

/// Resolves `addrs` in the process whose pid is the u64 at `offset + 8`.
fn user_symbols(
    syms: &dyn Symbols,
    bytes: &[u8],
    offset: usize,
    addrs: &[u64],
) -> Vec<Option<Symbol>> {
    let pid = u32::try_from(read_u64(bytes, offset + 8, 8)).ok();
    let mut found = pid.map_or_else(Vec::new, |pid| syms.user_symbols(pid, addrs));
    found.resize(addrs.len(), None);
    found
}

/// An address as a C++ stream prints a `void *`: `0` for null, else `0x` + hex.
pub(super) fn address_text(addr: u64) -> String {
    if addr == 0 {
        "0".to_string()
    } else {
        format!("{addr:#x}")
    }
}

/// Appends a stack as bpftrace prints it: nothing for a missing stack, else a newline
/// and one line per frame, indented by `indent` spaces where the mode indents.
pub(super) fn stack_text(frames: Option<&Frames>, indent: usize, out: &mut Vec<u8>) {
    let Some(frames) = frames else {
        return;
    };
    out.push(b'\n');
    for line in &frames.lines {
        if frames.indented {
            out.resize(out.len() + indent, b' ');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
}

/// The name /etc/passwd gives uid `uid`, or the uid itself.
pub(super) fn username(uid: u64) -> Vec<u8> {
    use std::sync::OnceLock;
    static PASSWD: OnceLock<String> = OnceLock::new();
    let passwd = PASSWD.get_or_init(|| std::fs::read_to_string("/etc/passwd").unwrap_or_default());
    user_named(passwd, uid)
        .map_or_else(|| uid.to_string(), str::to_string)
        .into_bytes()
}

/// The user name of `uid` in passwd-format `text`.
fn user_named(text: &str, uid: u64) -> Option<&str> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u64>().ok()?;
        (id == uid).then_some(name)
    })
}

/// The C library's message for errno `n` (`strerror()`).
pub(super) fn errno_text(n: i64) -> Vec<u8> {
    let Ok(code) = i32::try_from(n) else {
        return format!("Unknown error {n}").into_bytes();
    };
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is passed along.
    let rc = unsafe { libc::strerror_r(code, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {n}").into_bytes();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf[..end].to_vec()
}

/// Six bytes at `offset` as a MAC address: uppercase hex pairs joined by colons.
pub(super) fn mac(bytes: &[u8], offset: usize) -> Vec<u8> {
    let byte = |i: usize| bytes.get(offset + i).copied().unwrap_or(0);
    let parts: Vec<String> = (0..6).map(|i| format!("{:02X}", byte(i))).collect();
    parts.join(":").into_bytes()
}

#[cfg(test)]
mod passwd_tests {
    use super::{errno_text, mac, user_named};

    #[test]
    fn errno_and_mac_texts() {
        assert_eq!(errno_text(1), b"Operation not permitted");
        assert_eq!(errno_text(2), b"No such file or directory");
        assert_eq!(errno_text(1 << 40), b"Unknown error 1099511627776");
        assert_eq!(
            mac(&[0x2f, 0x65, 0x74, 0x63, 0xa, 0xff, 9, 9], 0),
            b"2F:65:74:63:0A:FF"
        );
    }

    #[test]
    fn names_come_from_the_third_field() {
        let text = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/bin/false\n";
        assert_eq!(user_named(text, 65534), Some("nobody"));
        assert_eq!(user_named(text, 0), Some("root"));
        assert_eq!(user_named(text, 7), None);
    }
}
