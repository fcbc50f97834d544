//! The printf conversions bpftrace recognises in a format string, shared by the
//! compiler (which counts and type-checks them) and the runtime (which fills them in):
//! `%[-][width][.precision]` then `c`, `s`, `r`/`rx`/`rh`, or an optional length
//! modifier and one of `d u x X o p` (and `i` where asked: bpftrace 0.17's scan leaves
//! `%i` to C's printf). Any other `%` is printed as it stands.

/// The end (exclusive) and conversion character of the conversion whose `%` is just
/// before `i` in `t`, if one starts there (`r` for `%rx` and `%rh` too).
pub fn conversion_at(t: &[u8], mut i: usize, with_i: bool) -> Option<(usize, u8)> {
    let at = |i: usize| t.get(i).copied().unwrap_or(0);
    if at(i) == b'-' {
        i += 1;
    }
    while at(i).is_ascii_digit() {
        i += 1;
    }
    if at(i) == b'.' && at(i + 1).is_ascii_digit() {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    let integer = |c: u8| b"duxXop".contains(&c) || (with_i && c == b'i');
    if matches!((at(i), at(i + 1)), (b'h', b'h') | (b'l', b'l')) && integer(at(i + 2)) {
        Some((i + 3, at(i + 2)))
    } else if b"hljzt".contains(&at(i)) && integer(at(i + 1)) {
        Some((i + 2, at(i + 1)))
    } else if at(i) == b'r' {
        let end = if matches!(at(i + 1), b'x' | b'h') {
            i + 2
        } else {
            i + 1
        };
        Some((end, b'r'))
    } else if integer(at(i)) || matches!(at(i), b'c' | b's') {
        Some((i + 1, at(i)))
    } else {
        None
    }
}

/// Every conversion of `template`, as (end, character), in order. A `%` that starts
/// none (`%%` included, as bpftrace scans) is passed over.
pub fn conversions(template: &[u8], with_i: bool) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < template.len() {
        match (template[i] == b'%')
            .then(|| conversion_at(template, i + 1, with_i))
            .flatten()
        {
            Some(found) => {
                out.push(found);
                i = found.0;
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::conversions;

    fn chars(t: &str) -> String {
        conversions(t.as_bytes(), true)
            .iter()
            .map(|c| char::from(c.1))
            .collect()
    }

    #[test]
    fn conversions_are_found_as_bpftrace_scans() {
        assert_eq!(
            chars("%d %s %-5lu %08llx %.3s %c %rx %rh %r %i"),
            "dsuxscrrri"
        );
        assert_eq!(chars("100% done\n"), "");
        assert_eq!(chars("%5.2f %k %"), "");
        assert_eq!(chars("100%%d"), "d");
        assert_eq!(conversions(b"a%5d!", false)[0], (4, b'd'));
        assert!(conversions(b"%i", false).is_empty());
    }
}
