//! Notes for common mistakes: each error says what went wrong in the user's terms and
//! what to write instead.

use super::{errors, ok, rendered};

/// The rendered diagnostics must contain each of `parts`.
fn says(src: &str, parts: &[&str]) {
    let text = rendered(src);
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
}

#[test]
fn assignment_in_a_predicate() {
    assert_eq!(
        errors("kprobe:f /pid = 42/ { }"),
        ["1:15: expected an operator or '/' to end the predicate, found '='"]
    );
    says("kprobe:f /pid = 42/ { }", &["use '==' to compare"]);
    says("BEGIN { @m[1 = 2]; }", &["use '==' to compare"]);
}

#[test]
fn single_quoted_strings() {
    assert_eq!(
        errors("BEGIN { printf('hi %d', 1); }"),
        ["1:16: strings are written in double quotes"]
    );
    says("BEGIN { printf('hi'); }", &["write \"hi\"", "65 for 'A'"]);
}

#[test]
fn aggregation_without_parentheses() {
    assert_eq!(
        errors("kprobe:f { @c = count; @s = sum; }"),
        [
            "1:17: 'count' is a function and needs parentheses",
            "1:29: 'sum' is a function and needs parentheses",
        ]
    );
    says("BEGIN { @c = count; }", &["write 'count()'"]);
    ok("macro count() { 1 }\nBEGIN { @c = count; }");
}

#[test]
fn c_style_for_loops() {
    assert_eq!(
        errors("BEGIN { for ($i = 0; $i < 10; $i++) { } }"),
        ["1:9: C-style for loops are not supported"]
    );
    says(
        "BEGIN { for ($i = 0; $i < 3; $i++) { } }",
        &["for ($i : 0..10)"],
    );
    says("BEGIN { for ($i = 0) { } }", &["not C's for (;;)"]);
}

#[test]
fn elif() {
    says(
        "BEGIN { if ($x == 1) { } elif ($x) { } }",
        &["write 'else if'"],
    );
}

#[test]
fn untyped_function_parameters() {
    assert_eq!(errors("fn f($x) { }"), ["1:8: expected ':', found ')'"]);
    says("fn f($x) { }", &["fn add($a: int64, $b: int64): int64"]);
}

#[test]
fn variables_without_a_dollar() {
    says(
        "BEGIN { let x = 1; }",
        &["scratch variables start with '$'"],
    );
}

#[test]
fn missing_semicolon_on_one_line() {
    says("BEGIN { print(1) $y = 1; }", &["statements end with ';'"]);
}

#[test]
fn field_names_after_a_dot() {
    assert_eq!(
        errors("BEGIN { $x.y. = 1; }"),
        ["1:15: expected a field name or a tuple index, found '='"]
    );
    let text = rendered("BEGIN { $x.y. = 1; }");
    assert!(!text.contains("'=='"), "{text}");
}

#[test]
fn what_was_expected_is_said_for_the_position() {
    assert_eq!(
        errors("BEGIN { $x = 1; ) }"),
        ["1:17: expected a statement or '}', found ')'"]
    );
    assert_eq!(
        errors("BEGIN { print(, 1); }"),
        ["1:15: expected an expression or ')', found ','"]
    );
    assert_eq!(
        errors("BEGIN { $x = $t->; }"),
        ["1:18: expected a field name, found ';'"]
    );
}

#[test]
fn a_skipped_character_does_not_cause_a_second_error() {
    assert_eq!(
        errors("BEGIN { $x = 1 ` 2; }\nEND { $ = 3; }"),
        [
            "1:16: unexpected character '`'",
            "2:7: unexpected character '$'",
        ]
    );
}

#[test]
fn broken_signatures_recover_at_the_body() {
    assert_eq!(
        errors("fn twice($x) { return $x * 2; }\nmacro m($a { $a }\nBEGIN { $y = ; }"),
        [
            "1:12: expected ':', found ')'",
            "2:12: expected ',' or ')', found '{'",
            "3:14: expected an expression, found ';'",
        ]
    );
}

#[test]
fn an_unterminated_string_is_reported_alone() {
    assert_eq!(
        errors("BEGIN { \"unterminated }\nEND { printf(\"ok\\n\"); }"),
        ["1:9: unterminated string"]
    );
}
