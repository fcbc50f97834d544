//! `ntop()` addresses, `buf()` data, `ksym`/`usym` names and `join()` compared with
//! bpftrace's output: whole maps against captures, printf and join inline (each test
//! quotes the bpftrace program and what it printed).

use std::net::Ipv6Addr;

use ebpfc_stdlib::meta::{MapKind, Ty, EVENT_JOIN, JOIN_ARG_SIZE};

use super::*;
use crate::output::resolve::ipv6_text;
use crate::output::{render_join, render_printf};

/// An `inet` value: family, then the address bytes, in 24 bytes.
fn inet(family: i64, addr: &[u8]) -> Vec<u8> {
    padded([i(family), addr.to_vec()].concat(), Ty::Inet.size())
}

fn inet6(text: &str) -> Vec<u8> {
    inet(10, &text.parse::<Ipv6Addr>().unwrap().octets())
}

/// A `buf` value of `size` bytes holding `data`.
fn buf(data: &[u8], size: u32) -> Vec<u8> {
    padded(
        [i(data.len() as i64), data.to_vec()].concat(),
        Ty::Buf { size }.size(),
    )
}

/// A key or value of `Value` map fields laid out as `tuple` lays them out.
fn fields(ty: &Ty, parts: &[Vec<u8>]) -> Vec<u8> {
    let Ty::Tuple { fields, size, .. } = ty else {
        unreachable!("tuple type expected")
    };
    let mut bytes = vec![0; *size as usize];
    for (field, part) in fields.iter().zip(parts) {
        let at = field.offset as usize;
        bytes[at..at + part.len()].copy_from_slice(part);
    }
    bytes
}

fn value_map(name: &str, key: Option<Ty>, value: Ty, entries: Vec<RawEntry>) -> Dump {
    (plain(name, key, value), entries)
}

/// `BEGIN { $a = 3 + (nsecs & 0); @a[ntop(2, 0x0100007f)] = 1;
/// @b = ntop(pton("2001:db8::ff00:42:8329")); @c[ntop(pton("::102:304")), 5] = 2;
/// @d = ntop(pton("fe80::1:2")); @e = ntop(pton("1:0:0:1:0:0:0:1")); @f = ntop($a, 1);
/// @g = ntop(pton("::")); exit(); }`
#[test]
fn inet_maps() {
    let key_c = tuple(vec![Ty::Inet, i64_ty()]);
    let scalar_inet = |name: &str, value: Vec<u8>| {
        value_map(name, None, Ty::Inet, vec![entry(scalar(), vec![value])])
    };
    let dumps = vec![
        value_map(
            "@a",
            Some(Ty::Inet),
            i64_ty(),
            vec![entry(inet(2, &[127, 0, 0, 1]), vec![i(1)])],
        ),
        scalar_inet("@b", inet6("2001:db8::ff00:42:8329")),
        value_map(
            "@c",
            Some(key_c.clone()),
            i64_ty(),
            vec![entry(
                fields(&key_c, &[inet6("::102:304"), i(5)]),
                vec![i(2)],
            )],
        ),
        scalar_inet("@d", inet6("fe80::1:2")),
        scalar_inet("@e", inet6("1:0:0:1:0:0:0:1")),
        scalar_inet("@f", inet(3, &[1, 0, 0, 0])),
        scalar_inet("@g", inet6("::")),
    ];
    check(&dumps, captured!("inet"));
}

/// bpftrace's `inet_ntop` is glibc's: `printf("%s", ntop(pton(A)))` printed `::2`,
/// `::1.2.3.4` for `::102:304` and `2001:db8:0:0:1::`; glibc (Python's
/// `socket.inet_ntop`) writes `::ffff:1.2.3.4`, `::ffff:0:102:304`, `1::` and
/// `::1:0:0` for the others.
#[test]
fn ipv6_text_is_glibc_text() {
    let cases = [
        ("::2", "::2"),
        ("::102:304", "::1.2.3.4"),
        ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
        ("1::", "1::"),
        ("0:0:0:0:0:1:0:0", "::1:0:0"),
        ("::1", "::1"),
    ];
    for (input, printed) in cases {
        assert_eq!(ipv6_text(input.parse().unwrap()), printed, "{input}");
    }
}

/// `BEGIN { @x = buf("ab\x01\n\\\"~ \x7f\xff", 11); @y[buf("ab\x01", 3)] = 1;
/// @z[buf("ab", 2), 5] = 2; @t = (1, buf("\x00z", 2)); exit(); }`
#[test]
fn buf_maps() {
    let key_z = tuple(vec![Ty::Buf { size: 2 }, i64_ty()]);
    let value_t = tuple(vec![i64_ty(), Ty::Buf { size: 2 }]);
    let dumps = vec![
        value_map(
            "@t",
            None,
            value_t.clone(),
            vec![entry(
                scalar(),
                vec![fields(&value_t, &[i(1), buf(b"\0z", 2)])],
            )],
        ),
        value_map(
            "@x",
            None,
            Ty::Buf { size: 11 },
            vec![entry(scalar(), vec![buf(b"ab\x01\n\\\"~ \x7f\xff\0", 11)])],
        ),
        value_map(
            "@y",
            Some(Ty::Buf { size: 3 }),
            i64_ty(),
            vec![entry(buf(b"ab\x01", 3), vec![i(1)])],
        ),
        value_map(
            "@z",
            Some(key_z.clone()),
            i64_ty(),
            vec![entry(fields(&key_z, &[buf(b"ab", 2), i(5)]), vec![i(2)])],
        ),
    ];
    check(&dumps, captured!("buf"));
}

/// The address of `vfs_read` on the machine the captures come from.
const VFS_READ: u64 = 0xffffffff816bab70;

/// A `ksym`/`usym` value: the address, then the pid.
fn sym(addr: u64, pid: u64) -> Vec<u8> {
    [addr.to_le_bytes(), pid.to_le_bytes()].concat()
}

/// `BEGIN { @ks[ksym(kaddr("vfs_read")), 3] = 2; @v = ksym(kaddr("vfs_read")+5);
/// @h = ksym(1); @z = ksym(0); @u = usym(0); @w = usym(0x10); exit(); }`
#[test]
fn symbol_maps() {
    let syms = FakeSymbols {
        kernel: [(VFS_READ, "vfs_read"), (VFS_READ + 0x200, "vfs_write")].into(),
        ..Default::default()
    };
    let kernel = Ty::Sym { user: false };
    let user = Ty::Sym { user: true };
    let key_ks = tuple(vec![kernel.clone(), i64_ty()]);
    let scalar_sym = |name: &str, ty: &Ty, value: Vec<u8>| {
        value_map(name, None, ty.clone(), vec![entry(scalar(), vec![value])])
    };
    let dumps = vec![
        scalar_sym("@h", &kernel, sym(1, 0)),
        value_map(
            "@ks",
            Some(key_ks.clone()),
            i64_ty(),
            vec![entry(
                fields(&key_ks, &[sym(VFS_READ, 0), i(3)]),
                vec![i(2)],
            )],
        ),
        scalar_sym("@u", &user, sym(0, 4242)),
        scalar_sym("@v", &kernel, sym(VFS_READ + 5, 0)),
        scalar_sym("@w", &user, sym(0x10, 4242)),
        scalar_sym("@z", &kernel, sym(0, 0)),
    ];
    check_with(&dumps, captured!("sym"), &syms);
}

fn b(data: &[u8]) -> (Ty, Vec<u8>) {
    let size = data.len() as u32;
    (Ty::Buf { size }, buf(data, size))
}

fn n(v: i64) -> (Ty, Vec<u8>) {
    (i64_ty(), i(v))
}

/// A printf template, its arguments and what bpftrace printed.
type Case = (&'static str, Vec<(Ty, Vec<u8>)>, &'static str);

/// Each template was run by bpftrace 0.17 with the arguments given here; the expected
/// text is what it printed.
#[test]
fn printf_of_buffers() {
    let cases: Vec<Case> = vec![
        ("%r|\n", vec![b(b"ab\x01\0cd")], "ab\\x01\\x00cd|\n"),
        ("[%10r]\n", vec![b(b"ab")], "[%10r]\n"),
        ("[%-10r]\n", vec![b(b"ab")], "[%-10r]\n"),
        ("[%.1r]\n", vec![b(b"ab")], "[%.1r]\n"),
        ("[%5r][%d]\n", vec![b(b"ab"), n(3)], "[%5r][3]\n"),
        (
            "A%r|%s|\n",
            vec![b(b"ab"), (str64(), s("x", 64))],
            "Aab|x|\n",
        ),
        ("B%r %d\n", vec![b(b"a\x02"), n(5)], "Ba\\x02 5\n"),
        ("C%d %r\n", vec![n(5), b(b"z")], "C5 z\n"),
        ("D%d [%5r] %d\n", vec![n(5), b(b"z"), n(7)], "D5 [%5r] 7\n"),
        ("E%r%r\n", vec![b(b"p"), b(b"q")], "Epq\n"),
        ("G%5d%r\n", vec![n(1), b(b"q")], "G    1q\n"),
        ("H%-3r|\n", vec![b(b"q")], "H%-3r|\n"),
        ("A[%rx]\n", vec![b(b"ab\x01")], "A[\\x61\\x62\\x01]\n"),
        ("B[%rh]\n", vec![b(b"ab\x01")], "B[61 62 01]\n"),
        (
            "C[%-r][%.1r]\n",
            vec![b(b"ab\x01"), b(b"ab")],
            "C[%-r][%.1r]\n",
        ),
        ("D[%r%%]\n", vec![b(b"ab\x01")], "D[ab\\x01%%]\n"),
    ];
    for (template, args, printed) in cases {
        assert_eq!(
            printf_text(template, &args, &NoSymbols),
            printed,
            "{template}"
        );
    }
}

/// `printf("%r|\n", buf("ab\x01\x00cd",6))` in JSON:
/// `{"type": "printf", "data": "ab\\x01\\x00cd|\n"}`.
#[test]
fn printf_of_a_buffer_in_json() {
    let (fmt, record) = event("%r|\n", &[b(b"ab\x01\0cd")]);
    assert_eq!(
        render_printf(OutputFormat::Json, &fmt, &record, &NoSymbols),
        "{\"type\": \"printf\", \"data\": \"ab\\\\x01\\\\x00cd|\\n\"}\n"
    );
}

/// `printf("%s|\n", ntop(2, 0x0100007f))` printed `127.0.0.1|`; with the family 3 (not
/// a constant) it printed `|`.
#[test]
fn printf_of_addresses() {
    let v4 = (Ty::Inet, inet(2, &[127, 0, 0, 1]));
    assert_eq!(printf_text("%s|\n", &[v4], &NoSymbols), "127.0.0.1|\n");
    let other = (Ty::Inet, inet(3, &[1, 0, 0, 0]));
    assert_eq!(printf_text("%s|\n", &[other], &NoSymbols), "|\n");
}

/// A `join()` record: id, separator index, element count, then the elements.
fn join_record(elements: &[&str]) -> Vec<u8> {
    let mut record = [EVENT_JOIN, 0, elements.len() as u64]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect::<Vec<u8>>();
    for element in elements {
        record.extend(s(element, JOIN_ARG_SIZE as usize));
    }
    record
}

/// `tracepoint:syscalls:sys_enter_execve { join(args->argv); join(args->argv, ","); }`
/// for `/bin/echo a "" bb c` printed `/bin/echo a` and `/bin/echo,a` (the empty
/// argument ends the list); in JSON `{"type": "join", "data": "/bin/echo a"}`.
#[test]
fn join_stops_at_the_first_empty_element() {
    let record = join_record(&["/bin/echo", "a", "", "bb", "c"]);
    assert_eq!(
        render_join(OutputFormat::Text, b" ", &record),
        "/bin/echo a\n"
    );
    assert_eq!(
        render_join(OutputFormat::Text, b",", &record),
        "/bin/echo,a\n"
    );
    assert_eq!(
        render_join(OutputFormat::Json, b" ", &record),
        "{\"type\": \"join\", \"data\": \"/bin/echo a\"}\n"
    );
}

#[test]
fn join_of_a_truncated_record_prints_what_is_there() {
    let mut record = join_record(&["x", "y", "z"]);
    record.truncate(24 + JOIN_ARG_SIZE as usize + 1);
    assert_eq!(render_join(OutputFormat::Text, b"-", &record), "x-y\n");
    assert_eq!(render_join(OutputFormat::Text, b"-", &record[..5]), "\n");
}

/// Sorting keeps working for count maps keyed by an address (by value), and for value
/// maps keyed by one (by the raw key), whatever the key bytes.
#[test]
fn maps_keyed_by_addresses_sort() {
    let info = agg("@c", MapKind::Count, Some(Ty::Inet));
    let entries = vec![
        entry(inet(2, &[10, 0, 0, 2]), vec![i(5), i(0)]),
        entry(inet(2, &[10, 0, 0, 1]), vec![i(1), i(1)]),
    ];
    let text = render(OutputFormat::Text, &[(info, entries)], &NoSymbols);
    assert_eq!(text, "\n\n@c[10.0.0.1]: 2\n@c[10.0.0.2]: 5\n");
}

/// Answers `strftime()` questions with the format index and the nanoseconds.
struct FakeClock;

impl Symbols for FakeClock {
    fn stack(&self, _id: i64) -> Option<Vec<u64>> {
        None
    }

    fn kernel_symbol(&self, _addr: u64) -> Option<Symbol> {
        None
    }

    fn user_symbols(&self, _pid: u32, addrs: &[u64]) -> Vec<Option<Symbol>> {
        vec![None; addrs.len()]
    }

    fn time(&self, format: u32, ns: u64) -> Option<Vec<u8>> {
        Some(format!("t{format}:{ns}").into_bytes())
    }
}

/// `@t = strftime("%H", nsecs); @k[strftime("%M", nsecs)] = count();` and a printf of
/// one: printed as their text (bpftrace 0.17 prints `@t: 23`); keys in time order; the
/// JSON values are strings (0.17 printed them unquoted, which is not JSON).
#[test]
fn strftime_times_print_as_text() {
    let time = Ty::Time { format: 1 };
    let dumps = vec![
        value_map("@t", None, time.clone(), vec![entry(scalar(), vec![i(5)])]),
        (
            agg("@k", MapKind::Count, Some(time.clone())),
            vec![entry(i(300), vec![i(1)]), entry(i(20), vec![i(1)])],
        ),
    ];
    let text = render(OutputFormat::Text, &dumps, &FakeClock);
    assert_eq!(text, "\n\n@k[t1:20]: 1\n@k[t1:300]: 1\n@t: t1:5\n");
    let json = render(OutputFormat::Json, &dumps, &FakeClock);
    assert!(json.contains(r#"{"@t": "t1:5"}"#), "{json}");
    let (fmt, record) = event("%s|\n", &[(time.clone(), i(7))]);
    let line = render_printf(OutputFormat::Text, &fmt, &record, &FakeClock);
    assert_eq!(line, "t1:7|\n");
    let unknown = render_printf(OutputFormat::Text, &fmt, &record, &NoSymbols);
    assert_eq!(unknown, "7|\n");
}
