//! Integer and string literals: bases, separators, exponents, suffixes, durations,
//! escapes, and the errors for malformed ones.

use super::{errors, expr};
use crate::ast::ExprKind;

fn int(src: &str) -> (u64, Option<String>) {
    match expr(src) {
        ExprKind::Int { value, suffix } => (value, suffix),
        other => panic!("{src} is not an integer: {other:?}"),
    }
}

fn value(src: &str) -> u64 {
    int(src).0
}

fn string(src: &str) -> String {
    match expr(src) {
        ExprKind::Str(s) => s,
        other => panic!("{src} is not a string: {other:?}"),
    }
}

#[test]
fn integer_bases() {
    assert_eq!(value("0"), 0);
    assert_eq!(value("42"), 42);
    assert_eq!(value("0x1F"), 31);
    assert_eq!(value("0XfF"), 255);
    assert_eq!(value("0o17"), 15);
    assert_eq!(value("017"), 15);
    assert_eq!(value("0b101"), 5);
    assert_eq!(value("18446744073709551615"), u64::MAX);
}

#[test]
fn separators_and_exponents() {
    assert_eq!(value("1_000"), 1000);
    assert_eq!(value("1_000_000"), 1_000_000);
    assert_eq!(value("1e6"), 1_000_000);
    assert_eq!(value("2E3"), 2000);
    assert_eq!(value("0xdead_beef"), 0xdead_beef);
}

#[test]
fn c_suffixes_are_kept() {
    assert_eq!(int("10u"), (10, Some("u".to_string())));
    assert_eq!(int("10ULL"), (10, Some("ULL".to_string())));
    assert_eq!(int("0x10ul"), (16, Some("ul".to_string())));
    assert_eq!(int("7"), (7, None));
}

#[test]
fn durations_are_scaled_to_nanoseconds() {
    assert_eq!(int("5s"), (5_000_000_000, Some("s".to_string())));
    assert_eq!(value("10ms"), 10_000_000);
    assert_eq!(value("3us"), 3_000);
    assert_eq!(value("7ns"), 7);
    assert_eq!(value("2m"), 120_000_000_000);
    assert_eq!(value("1h"), 3_600_000_000_000);
    assert_eq!(value("1d"), 86_400_000_000_000);
}

#[test]
fn bad_integers_are_reported() {
    assert_eq!(
        errors("BEGIN { 0xZZ; }"),
        ["1:9: invalid hexadecimal literal '0xZZ'"]
    );
    assert_eq!(
        errors("BEGIN { 0x; }"),
        ["1:9: invalid hexadecimal literal '0x'"]
    );
    assert_eq!(
        errors("BEGIN { 089; }"),
        ["1:9: invalid digit '8' in octal literal '089'"]
    );
    assert_eq!(
        errors("BEGIN { 0b12; }"),
        ["1:9: invalid digit '2' in binary literal '0b12'"]
    );
    assert_eq!(
        errors("BEGIN { 12abc; }"),
        ["1:9: invalid suffix 'abc' on integer literal '12abc'"]
    );
    assert_eq!(
        errors("BEGIN { 18446744073709551616; }"),
        ["1:9: integer literal '18446744073709551616' is too large"]
    );
    assert_eq!(
        errors("BEGIN { 1e30; }"),
        ["1:9: integer literal '1e30' is too large"]
    );
    assert_eq!(
        errors("BEGIN { 100000000000d; }"),
        ["1:9: integer literal '100000000000d' is too large"]
    );
    assert_eq!(
        errors("BEGIN { 0x10s; }"),
        ["1:9: invalid suffix 's' on integer literal '0x10s'"]
    );
}

#[test]
fn floats_are_rejected() {
    assert_eq!(
        errors("BEGIN { $x = 1.5; }"),
        ["1:14: floating-point numbers are not supported"]
    );
}

#[test]
fn plain_strings() {
    assert_eq!(string("\"hello\""), "hello");
    assert_eq!(string("\"\""), "");
    assert_eq!(
        string("\"a // not a comment /* */\""),
        "a // not a comment /* */"
    );
    assert_eq!(string("\"ünïcode\""), "ünïcode");
}

#[test]
fn string_escapes() {
    assert_eq!(string(r#""a\nb\tc""#), "a\nb\tc");
    assert_eq!(string(r#""\"quoted\"""#), "\"quoted\"");
    assert_eq!(string(r#""back\\slash""#), "back\\slash");
    assert_eq!(string(r#""\012""#), "\n");
    assert_eq!(string(r#""\0""#), "\0");
    assert_eq!(string(r#""\101\102""#), "AB");
    assert_eq!(string(r#""\x41\x4a""#), "AJ");
    assert_eq!(string(r#""\x9z""#), "\tz");
    assert_eq!(string(r#""\r\a\e""#), "\r\x07\x1b");
}

#[test]
fn byte_escapes_stand_for_their_bytes() {
    let decoded = |text: &str| {
        let mut diags = Vec::new();
        crate::literal::decode_str(text, 0, &mut diags)
    };
    assert_eq!(
        ebpfc_stdlib::bytes::literal_bytes(&decoded(r"a\xffb\200")),
        b"a\xffb\x80"
    );
    assert_eq!(
        ebpfc_stdlib::bytes::literal_bytes(&decoded("é")),
        "é".as_bytes()
    );
}

#[test]
fn bad_escapes_are_reported() {
    assert_eq!(
        errors(r#"BEGIN { "a\qb"; }"#),
        ["1:11: unknown escape sequence '\\q'"]
    );
    assert_eq!(
        errors(r#"BEGIN { "\xg"; }"#),
        ["1:10: '\\x' must be followed by hexadecimal digits"]
    );
    assert_eq!(
        errors(r#"BEGIN { "\777"; }"#),
        ["1:10: escape '\\777' is above 0xff: an escape is one byte"]
    );
    assert_eq!(
        errors(r#"BEGIN { "\q \w"; }"#),
        [
            "1:10: unknown escape sequence '\\q'",
            "1:13: unknown escape sequence '\\w'"
        ]
    );
}

#[test]
fn unterminated_strings() {
    assert_eq!(
        errors("BEGIN { \"unterminated }"),
        ["1:9: unterminated string"]
    );
    assert_eq!(
        errors("BEGIN { \"ab\ncd\"; }")[0],
        "1:9: unterminated string"
    );
    assert_eq!(errors("BEGIN { \"ab\\"), ["1:9: unterminated string"]);
}

#[test]
fn booleans_and_positionals() {
    assert_eq!(expr("true"), ExprKind::Bool(true));
    assert_eq!(expr("false"), ExprKind::Bool(false));
    assert_eq!(expr("$1"), ExprKind::Positional(1));
    assert_eq!(expr("$12"), ExprKind::Positional(12));
    assert_eq!(expr("$#"), ExprKind::PositionalCount);
}
