//! Diagnostics: each error has a message in words and a line:col; several errors are
//! collected per run; pathological input is refused without a panic or stack overflow.

use super::{errors, ok, rendered};
use crate::{dump, parse, MAX_DEPTH, MAX_NESTING, MAX_STATEMENT_TOKENS};

#[test]
fn unclosed_call() {
    assert_eq!(
        errors("BEGIN { printf(\"x\" }"),
        ["1:20: expected ',' or ')', found '}'"]
    );
    let text = rendered("BEGIN { printf(\"x\" }");
    assert!(text.contains("unclosed bracket opened here"), "{text}");
}

#[test]
fn stray_operator() {
    assert_eq!(
        errors("BEGIN { $x = 1 +* 2; }"),
        ["1:17: cannot dereference a literal"]
    );
    assert_eq!(
        errors("BEGIN { $x = 1 + ; }"),
        ["1:18: expected an expression, found ';'"]
    );
}

#[test]
fn unclosed_condition() {
    assert_eq!(
        errors("BEGIN { if ($x { } }"),
        ["1:16: expected ')', found '{'"]
    );
}

#[test]
fn unterminated_string() {
    assert_eq!(
        errors("BEGIN { \"unterminated }"),
        ["1:9: unterminated string"]
    );
    let text = rendered("BEGIN { \"unterminated }");
    assert!(text.contains("this string is never closed"), "{text}");
}

#[test]
fn empty_attach_point_name() {
    assert_eq!(
        errors("kprobe: { }"),
        ["1:1: incomplete attach point 'kprobe:'"]
    );
}

#[test]
fn bad_hex_literal() {
    assert_eq!(
        errors("BEGIN { 0xZZ; }"),
        ["1:9: invalid hexadecimal literal '0xZZ'"]
    );
}

#[test]
fn missing_semicolon_points_at_the_previous_line() {
    let src = "BEGIN {\n  $x = 1 // one\n  $y = 2;\n}";
    assert_eq!(
        errors(src),
        ["2:9: expected ';' or '}' after the statement, found '$y'"]
    );
    let text = rendered(src);
    assert!(text.contains("expected ';' here"), "{text}");
    assert!(text.contains("statements end with ';'"), "{text}");
}

#[test]
fn assignment_in_condition_has_a_note() {
    let text = rendered("BEGIN { if ($x = 1) { } }");
    assert!(text.contains("use '==' to compare"), "{text}");
}

#[test]
fn unclosed_predicate() {
    let src = "kprobe:f /pid == 1 { }";
    assert_eq!(
        errors(src),
        ["1:20: expected an operator or '/' to end the predicate, found '{'"]
    );
}

#[test]
fn bad_assignment_targets() {
    assert_eq!(
        errors("BEGIN { 1 = 2; }"),
        ["1:9: cannot assign to this expression"]
    );
    assert_eq!(
        errors("BEGIN { f() += 2; }"),
        ["1:9: cannot assign to this expression"]
    );
    assert_eq!(
        errors("BEGIN { 3++; }"),
        ["1:9: cannot increment this expression"]
    );
}

#[test]
fn several_errors_are_collected() {
    let src = "BEGIN { $x = ; $y = 1 +; }\nEND { printf(\"a\" }\nkprobe:f { 0xZZ; `; }";
    let errs = errors(src);
    assert_eq!(
        errs,
        [
            "1:14: expected an expression, found ';'",
            "1:24: expected an expression, found ';'",
            "2:18: expected ',' or ')', found '}'",
            "3:12: invalid hexadecimal literal '0xZZ'",
            "3:18: unexpected character '`'",
        ]
    );
}

#[test]
fn stray_else_is_not_blamed_on_a_semicolon() {
    let src = "BEGIN {\n  if ($x) { }\n  else { }\n  else { }\n}";
    assert_eq!(
        errors(src),
        ["4:3: expected a statement or '}', found 'else'"]
    );
    let text = rendered(src);
    assert!(!text.contains("expected ';' here"), "{text}");
    assert!(text.contains("'else' must directly follow"), "{text}");
}

#[test]
fn probe_without_body() {
    assert_eq!(
        errors("kprobe:f"),
        ["1:9: expected a predicate '/.../' or '{' to start the probe body, found end of file"]
    );
}

#[test]
fn broken_predicate_recovers_at_the_next_probe() {
    let errs = errors("kprobe:f /pid == 1 { }\nBEGIN { $x = ; }");
    assert_eq!(
        errs,
        [
            "1:20: expected an operator or '/' to end the predicate, found '{'",
            "2:14: expected an expression, found ';'",
        ]
    );
}

#[test]
fn unterminated_c_definition() {
    assert_eq!(errors("enum"), ["1:1: unterminated C definition"]);
    assert_eq!(
        errors("struct x { int a;\nBEGIN { }"),
        ["1:1: unterminated C definition"]
    );
    assert!(rendered("union").contains("this definition never ends"));
}

#[test]
fn stray_closing_brace() {
    assert_eq!(
        errors("BEGIN { } }"),
        ["1:11: expected a probe or another top-level item, found '}'"]
    );
}

#[test]
fn unterminated_comment() {
    assert_eq!(
        errors("BEGIN { } /* never closed"),
        ["1:11: unterminated comment"]
    );
    assert_eq!(
        errors("BEGIN { /* never closed }"),
        ["1:9: unterminated comment"]
    );
}

#[test]
fn missing_closing_brace_at_end_of_file() {
    let src = "BEGIN { $x = 1;";
    assert_eq!(
        errors(src),
        ["1:16: expected a statement or '}', found end of file"]
    );
    assert!(rendered(src).contains("unclosed bracket opened here"));
}

#[test]
fn unexpected_characters() {
    assert_eq!(errors("BEGIN { 'a; }"), ["1:9: unexpected character '''"]);
    assert!(rendered("BEGIN { 'a; }").contains("character literals are not supported"));
    assert_eq!(errors("BEGIN { ` }"), ["1:9: unexpected character '`'"]);
}

#[test]
fn deep_parentheses_are_refused() {
    let src = format!(
        "BEGIN {{ $x = {}1{}; }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].ends_with("the program is nested too deeply"),
        "{errs:?}"
    );
}

#[test]
fn deep_blocks_and_brackets_are_refused() {
    let src = format!("BEGIN {} {}", "{".repeat(100_000), "}".repeat(100_000));
    assert!(errors(&src)[0].ends_with("nested too deeply"));
    let src = format!("BEGIN {{ @x{} }}", "[1".repeat(50_000));
    assert!(errors(&src)[0].ends_with("nested too deeply"));
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let depth = MAX_NESTING - 2;
    let src = format!(
        "BEGIN {{ $x = {}1{}; }}",
        "-(".repeat(depth),
        ")".repeat(depth)
    );
    assert!(dump(&ok(&src)).lines().count() > depth);
}

#[test]
fn long_statements_are_refused() {
    let src = format!("BEGIN {{ $x = 1{}; }}", " + 1".repeat(MAX_STATEMENT_TOKENS));
    assert!(errors(&src)[0].ends_with("this statement is too long"));
    let src = format!("BEGIN {{ $x = {}1; }}", "!".repeat(100_000));
    assert!(errors(&src)[0].ends_with("this statement is too long"));
}

#[test]
fn long_runs_across_nested_blocks_are_refused() {
    // `$x = - - ... (if (1) { - - ... (if (1) { ... } else { 1 }) } else { 1 });`
    let level = format!("{}(if (1) {{ ", "- ".repeat(1000));
    let src = format!(
        "BEGIN {{ $x = {}1{}; }}",
        level.repeat(200),
        " } else { 1 })".repeat(200)
    );
    assert!(errors(&src)[0].ends_with("this statement is too long"));
}

#[test]
fn deep_expressions_are_refused() {
    let chain = format!(
        "BEGIN {{ $x = 1{}; }}",
        " + 1".repeat(MAX_STATEMENT_TOKENS / 2 - 4)
    );
    assert_eq!(errors(&chain).len(), 1);
    assert!(errors(&chain)[0].ends_with("this is nested too deeply"));
    let unary = format!(
        "BEGIN {{ $x = {}1; }}",
        "- ".repeat(MAX_STATEMENT_TOKENS - 8)
    );
    assert!(errors(&unary)[0].ends_with("this is nested too deeply"));
}

#[test]
fn the_deepest_accepted_trees_dump() {
    let unary = format!("BEGIN {{ $x = {}1; }}", "- ".repeat(MAX_DEPTH - 5));
    assert_eq!(dump(&ok(&unary)).lines().count(), MAX_DEPTH - 5 + 4);
    let chain = format!("BEGIN {{ $x = 1{}; }}", " + 1".repeat(MAX_DEPTH - 5));
    assert!(dump(&ok(&chain)).lines().count() > MAX_DEPTH);
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "",
        "}",
        "{",
        "/",
        "BEGIN",
        "BEGIN {",
        "BEGIN /",
        "BEGIN / {",
        "@",
        "$",
        "#",
        "struct",
        "struct x {",
        "config",
        "config = {",
        "fn",
        "fn f(",
        "macro m(",
        "let",
        "let @m = ",
        "BEGIN { (uint32 }",
        "BEGIN { sizeof( }",
        "BEGIN { offsetof(struct",
        "BEGIN { $t.99999999999; }",
        "BEGIN { for ($i : ) { } }",
        "BEGIN { \"\\",
        "uprobe:\"",
        "BEGIN { @x[ }",
        "BEGIN { ((( }",
        "BEGIN { if } } }",
        "a:b:c:d:e { } } { {",
        "BEGIN { $x = (a = 1, 2); }",
        "\u{feff}BEGIN { }",
        "BEGIN { é }",
        "kprobe:é { }",
        "BEGIN { 1 ? : ; }",
    ];
    for src in samples {
        check_never_panics(src);
    }
}

#[test]
fn random_token_soup_never_panics() {
    const PIECES: &[&str] = &[
        "BEGIN",
        "kprobe:f",
        "uprobe:/bin/x:y",
        ",",
        "/",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ";",
        ":",
        "?",
        "$x",
        "@m",
        "@",
        "$1",
        "$#",
        "1",
        "0x",
        "1e",
        "5ms",
        "\"s\"",
        "\"",
        "'",
        "\\",
        "if",
        "else",
        "while",
        "for",
        "..",
        "let",
        "fn",
        "macro",
        "config",
        "=",
        "+=",
        "++",
        "--",
        "-",
        "*",
        "&",
        "!",
        "~",
        "->",
        ".",
        "0",
        "struct",
        "x",
        "uint32",
        "sizeof",
        "offsetof",
        "#x\n",
        "/*",
        "*/",
        "//",
        "\n",
        " ",
        "é",
        "return",
        "break",
        "unroll",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let src: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        check_never_panics(&src);
    }
}

#[test]
fn mutated_scripts_never_panic() {
    const MUTATIONS: usize = 300;
    let base = super::tools::big_script(40);
    let cuts: &[&str] = &[
        "", "{", "}", "(", ")", "/", "\"", "/*", ":", "@", "$", "é", "\n", "[", ",",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..MUTATIONS {
        let mut src = base.clone();
        for _ in 0..1 + next() % 3 {
            let mut at = (next() % src.len() as u64) as usize;
            while !src.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + (next() % 4) as usize).min(src.len());
            while !src.is_char_boundary(end) {
                end -= 1;
            }
            src.replace_range(at..end, cuts[(next() % cuts.len() as u64) as usize]);
        }
        check_never_panics(&src);
    }
}

/// Parses `src`; dumps the program or renders every diagnostic, which must have spans
/// inside the source.
fn check_never_panics(src: &str) {
    match parse(src) {
        Ok(program) => {
            let _ = dump(&program);
        }
        Err(diags) => {
            let text = crate::render("fuzz.bt", src, &diags);
            assert!(!text.contains("cannot render"), "{src:?}\n{text}");
        }
    }
}
