//! printf events compared with bpftrace's captured output.

use ebpfc_stdlib::meta::{Field, Format, Ty, EVENT_PRINTF};

use super::{int, str64};
use crate::output::{render_printf, NoSymbols, OutputFormat};

/// One printf argument as the program passes it.
enum A {
    /// A signed 64-bit integer (what the compiler widens integers to).
    I(i64),
    /// An integer of the given size and signedness (the low bytes of the value).
    T(i64, u8, bool),
    /// A string.
    S(&'static str),
}

/// Builds the format and an event record (id, then the arguments at 8-byte alignment).
fn event(template: &str, args: &[A]) -> (Format, Vec<u8>) {
    let mut record = EVENT_PRINTF.to_le_bytes().to_vec();
    let mut fields = Vec::new();
    for arg in args {
        let (ty, bytes): (Ty, Vec<u8>) = match arg {
            A::I(v) => (int(8, true), v.to_le_bytes().to_vec()),
            A::T(v, size, signed) => (
                int(*size, *signed),
                v.to_le_bytes()[..*size as usize].to_vec(),
            ),
            A::S(text) => (str64(), super::s(text, 64)),
        };
        fields.push(Field {
            offset: record.len() as u32,
            ty,
        });
        record.extend(bytes);
        record.resize(record.len().next_multiple_of(8), 0);
    }
    (
        Format {
            template: template.to_string(),
            args: fields,
            system: false,
            stderr_prefix: None,
            value: false,
            cat: false,
        },
        record,
    )
}

/// Asserts the text and JSON renderings against the captured outputs.
macro_rules! check {
    ($name:literal, $template:expr, [$($arg:expr),* $(,)?]) => {{
        let (fmt, record) = event($template, &[$($arg),*]);
        let text = include_str!(concat!("bpftrace/", $name, ".ptext"));
        let json = include_str!(concat!("bpftrace/", $name, ".pjson"));
        assert_eq!(render_printf(OutputFormat::Text, &fmt, &record, &NoSymbols), text);
        assert_eq!(render_printf(OutputFormat::Json, &fmt, &record, &NoSymbols), json);
    }};
}

use A::{I, S, T};

/// `printf("%d %s %5d|%-5s|%x %u %c\n", 5, "str", 42, "ab", 255, 7, 65)`
#[test]
fn basic_conversions() {
    check!(
        "p1",
        "%d %s %5d|%-5s|%x %u %c\n",
        [I(5), S("str"), I(42), S("ab"), I(255), I(7), I(65)]
    );
}

/// `printf("[%d][%ld][%lld][%hhd][%hd][%u][%lu][%llu]\n", 5000000000, 5000000000, -1,
/// 5000000000, 5000000000, -1, -1, 5000000000)`
#[test]
fn length_modifiers_choose_the_width() {
    let big = 5_000_000_000;
    check!(
        "p2",
        "[%d][%ld][%lld][%hhd][%hd][%u][%lu][%llu]\n",
        [I(big), I(big), I(-1), I(big), I(big), I(-1), I(-1), I(big)]
    );
}

/// `printf("[%x][%lx][%X][%o][%lo][%p][%p][%zd][%jd][%td]\n", -1, -1, -255, -1, 8, 0,
/// 4096, -1, 5000000000, 7)`
#[test]
fn hex_octal_pointer() {
    check!(
        "p3",
        "[%x][%lx][%X][%o][%lo][%p][%p][%zd][%jd][%td]\n",
        [
            I(-1),
            I(-1),
            I(-255),
            I(-1),
            I(8),
            I(0),
            I(4096),
            I(-1),
            I(5_000_000_000),
            I(7)
        ]
    );
}

/// `printf("[%5.3d][%-05d][%.5d][%020d][%-20ld][%.0d][%3.0d][%08x][%-8X][%08.3d]\n",
/// -1, -1, -1, -42, -42, 0, 0, 255, 255, 7)`
#[test]
fn widths_precisions_and_zero_padding() {
    check!(
        "p4",
        "[%5.3d][%-05d][%.5d][%020d][%-20ld][%.0d][%3.0d][%08x][%-8X][%08.3d]\n",
        [
            I(-1),
            I(-1),
            I(-1),
            I(-42),
            I(-42),
            I(0),
            I(0),
            I(255),
            I(255),
            I(7)
        ]
    );
}

/// `printf("[%5c][%-3c][%c][%05c][%5.2c][%05p][%-08p][%.2p][%5.3x][%.0o]\n", 65, 66, 321,
/// 65, 65, 65, 65, 65, 65, 0)`
#[test]
fn chars_and_padded_pointers() {
    check!(
        "p5",
        "[%5c][%-3c][%c][%05c][%5.2c][%05p][%-08p][%.2p][%5.3x][%.0o]\n",
        [
            I(65),
            I(66),
            I(321),
            I(65),
            I(65),
            I(65),
            I(65),
            I(65),
            I(65),
            I(0)
        ]
    );
}

/// `printf("[%5s][%-5s][%.2s][%5.1s][%s][%05s]\n", "abc", "abc", "abc", "abc", "", "ab")`
#[test]
fn strings() {
    check!(
        "p6",
        "[%5s][%-5s][%.2s][%5.1s][%s][%05s]\n",
        [S("abc"), S("abc"), S("abc"), S("abc"), S(""), S("ab")]
    );
}

/// `printf("%d|%u|%x|%d|%u|%d|%ld|%ld|%lu|%lx\n", (int8)-1, (int8)-1, (int8)-1,
/// (uint8)200, (int32)-5, (uint32)4000000000, (uint32)4000000000, (int32)-5, (int8)-1,
/// (uint16)65535)`
#[test]
fn small_integers_extend_by_sign() {
    check!(
        "p7",
        "%d|%u|%x|%d|%u|%d|%ld|%ld|%lu|%lx\n",
        [
            T(-1, 1, true),
            T(-1, 1, true),
            T(-1, 1, true),
            T(200, 1, false),
            T(-5, 4, true),
            T(4_000_000_000, 4, false),
            T(4_000_000_000, 4, false),
            T(-5, 4, true),
            T(-1, 1, true),
            T(65535, 2, false),
        ]
    );
}

/// `printf("[%%][%d][%%][%i]\n", 5)`: `%%` is only collapsed before a conversion.
#[test]
fn percent_before_a_conversion() {
    check!("p8", "[%%][%d][%%][%i]\n", [I(5)]);
}

/// `printf("[%%]\n")`: without conversions the template is copied as is.
#[test]
fn percent_without_conversions() {
    check!("p9", "[%%]\n", []);
}

/// `printf("[%%d]\n", 5)`
#[test]
fn percent_percent_d() {
    check!("p10", "[%%d]\n", [I(5)]);
}

/// `printf("%d%%\n", 5)`
#[test]
fn percent_after_the_last_conversion() {
    check!("p11", "%d%%\n", [I(5)]);
}

/// `printf("[%i][%+d][%#x][100%][%e]\n")`: not conversions to bpftrace.
#[test]
fn unrecognised_conversions_are_literal() {
    check!("p12", "[%i][%+d][%#x][100%][%e]\n", []);
}

/// `printf("[%c][%c]x\n", 0, 66)`: a NUL ends its piece of output.
#[test]
fn nul_char_cuts_its_piece() {
    check!("p13", "[%c][%c]x\n", [I(0), I(66)]);
}

/// `printf("q\"b\\s\tt\r\x01é\n")`
#[test]
fn json_escaping() {
    check!("p14", "q\"b\\s\tt\r\u{1}é\n", []);
}

/// `printf("no newline")`
#[test]
fn no_trailing_newline() {
    check!("p15", "no newline", []);
}

/// `printf("[%-d][%-0d][%5.2x]\n", 5, 6, 9)`
#[test]
fn minus_and_zero_flags() {
    check!("p16", "[%-d][%-0d][%5.2x]\n", [I(5), I(6), I(9)]);
}

/// `printf("%s=%d\n", "k\"ey", -7)`
#[test]
fn string_with_quote() {
    check!("p17", "%s=%d\n", [S("k\"ey"), I(-7)]);
}

/// When bpftrace's conversions do not match the arguments, the template is one C format;
/// the expected text is glibc's (`printf '%+d|%i|% d|%#x|%#o|%+05d\n' 5 -3 7 255 8 42`).
#[test]
fn c_semantics_when_counts_differ() {
    let template = "%+d|%i|% d|%#x|%#o|%+05d\n";
    let (fmt, record) = event(template, &[I(5), I(-3), I(7), I(255), I(8), I(42)]);
    let text = render_printf(OutputFormat::Text, &fmt, &record, &NoSymbols);
    assert_eq!(text, "+5|-3| 7|0xff|010|+0042\n");
}

/// Text keeps bytes that are not UTF-8, in strings and in the format (whose escaped
/// bytes above 0x7f the compiler writes as `ebpfc_stdlib::bytes` characters).
#[test]
fn bytes_that_are_not_utf8_print_as_they_are() {
    let template = format!("a{}|%s|\n", ebpfc_stdlib::bytes::raw_byte_char(0xe9));
    let (fmt, mut record) = event(&template, &[S("xyz")]);
    record[9] = 0xff;
    let text = render_printf(OutputFormat::Text, &fmt, &record, &NoSymbols);
    assert_eq!(
        ebpfc_stdlib::bytes::literal_bytes(&text),
        b"a\xe9|x\xffz|\n"
    );
}
