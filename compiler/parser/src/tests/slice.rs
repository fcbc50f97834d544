//! The core language: probes, predicates, statements, variables, maps, operators and
//! their precedence, calls, field access, if/else and comments.

use super::{expr, expr_tree, first_probe, ok, stmt_tree, tree};
use crate::ast::{BinOp, ExprKind, Item, StmtKind};

#[test]
fn begin_end_and_tracepoint_probes() {
    let t = tree(
        "BEGIN { }\nEND { }\ntracepoint:syscalls:sys_enter_openat { }\ntracepoint:syscalls:sys_enter_* { }",
    );
    assert_eq!(
        t,
        "probe BEGIN\nprobe END\nprobe tracepoint:syscalls:sys_enter_openat\n  attach tracepoint [\"syscalls\", \"sys_enter_openat\"]\nprobe tracepoint:syscalls:sys_enter_*\n  attach tracepoint [\"syscalls\", \"sys_enter_*\"]\n"
    );
}

#[test]
fn probe_lists_and_intervals() {
    let program = ok("interval:s:1, interval:ms:100,\n  tracepoint:a:b { exit(); }");
    let probe = first_probe(program);
    let raws: Vec<&str> = probe.attach.iter().map(|a| a.raw.as_str()).collect();
    assert_eq!(raws, ["interval:s:1", "interval:ms:100", "tracepoint:a:b"]);
    assert_eq!(probe.attach[1].provider, "interval");
    assert_eq!(probe.attach[1].parts, ["ms", "100"]);
}

#[test]
fn attach_point_spans() {
    let probe = first_probe(ok("BEGIN, tracepoint:a:b { }"));
    assert_eq!(probe.attach[1].span.range(), 7..21);
    assert_eq!(probe.span.range(), 0..25);
}

#[test]
fn predicates() {
    let t = tree("tracepoint:a:b /pid == 42/ { @x = 1; }");
    assert_eq!(
        t,
        "probe tracepoint:a:b\n  attach tracepoint [\"a\", \"b\"]\n  predicate\n    binary ==\n      ident pid\n      int 42\n  assign\n    map @x\n    int 1\n"
    );
    let t = tree("kprobe:f/arg0 / 2 > 1/{ }\nBEGIN\n/@start[tid]/\n{ }");
    assert!(t.contains("binary /\n"), "{t}");
    assert!(
        t.contains("probe BEGIN\n  predicate\n    map @start\n      ident tid\n"),
        "{t}"
    );
}

#[test]
fn statements_and_optional_last_semicolon() {
    let probe = first_probe(ok("BEGIN { $a = 1; $b = 2 }"));
    assert_eq!(probe.body.stmts.len(), 2);
    let probe = first_probe(ok("BEGIN { if (1) { } $a = 1; { } $b = 2; ; }"));
    assert_eq!(probe.body.stmts.len(), 4);
    let probe = first_probe(ok("BEGIN { }"));
    assert!(probe.body.stmts.is_empty());
}

#[test]
fn scratch_variables_and_assignment() {
    assert_eq!(stmt_tree("$x = 1;"), "assign\n  var $x\n  int 1\n");
    assert_eq!(stmt_tree("$x += $y;"), "assign +=\n  var $x\n  var $y\n");
    assert_eq!(stmt_tree("$x <<= 2;"), "assign <<=\n  var $x\n  int 2\n");
    let probe = first_probe(ok("BEGIN { $x -= 1 }"));
    let StmtKind::Assign { op, .. } = &probe.body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(*op, Some(BinOp::Sub));
}

#[test]
fn maps() {
    assert_eq!(stmt_tree("@x = 1;"), "assign\n  map @x\n  int 1\n");
    assert_eq!(
        stmt_tree("@x[pid] = 1;"),
        "assign\n  map @x\n    ident pid\n  int 1\n"
    );
    assert_eq!(
        stmt_tree("@x[pid, comm] = count();"),
        "assign\n  map @x\n    ident pid\n    ident comm\n  call count\n"
    );
    assert_eq!(stmt_tree("@ = 1;"), "assign\n  map @\n  int 1\n");
    assert_eq!(
        stmt_tree("@[1] = 1;"),
        "assign\n  map @\n    int 1\n  int 1\n"
    );
    assert_eq!(expr_tree("@x [1]"), expr_tree("@x[1]"));
    let ExprKind::Map { name, keys } = expr("@m[1, 2]") else {
        panic!()
    };
    assert_eq!((name.as_str(), keys.len()), ("@m", 2));
}

#[test]
fn map_value_indexed_again() {
    assert_eq!(
        expr_tree("@m[1][2]"),
        "index\n  map @m\n    int 1\n  int 2\n"
    );
}

#[test]
fn multiplicative_binds_tighter_than_additive() {
    assert_eq!(
        expr_tree("1 + 2 * 3"),
        "binary +\n  int 1\n  binary *\n    int 2\n    int 3\n"
    );
    assert_eq!(
        expr_tree("1 - 2 - 3"),
        "binary -\n  binary -\n    int 1\n    int 2\n  int 3\n"
    );
}

#[test]
fn c_precedence_ladder() {
    // || < && < | < ^ < & < == < < < << < + < *
    let t = expr_tree("a || b && c | d ^ e & f == g < h << i + j * k");
    let expected = "binary ||\n  ident a\n  binary &&\n    ident b\n    binary |\n      ident c\n      binary ^\n        ident d\n        binary &\n          ident e\n          binary ==\n            ident f\n            binary <\n              ident g\n              binary <<\n                ident h\n                binary +\n                  ident i\n                  binary *\n                    ident j\n                    ident k\n";
    assert_eq!(t, expected);
}

#[test]
fn relational_and_equality_operators() {
    for (src, op) in [
        ("a != b", "!="),
        ("a <= b", "<="),
        ("a >= b", ">="),
        ("a > b", ">"),
        ("a % b", "%"),
        ("a >> b", ">>"),
    ] {
        assert_eq!(
            expr_tree(src),
            format!("binary {op}\n  ident a\n  ident b\n")
        );
    }
}

#[test]
fn unary_operators() {
    assert_eq!(
        expr_tree("-a * b"),
        "binary *\n  unary -\n    ident a\n  ident b\n"
    );
    assert_eq!(
        expr_tree("!a == ~b"),
        "binary ==\n  unary !\n    ident a\n  unary ~\n    ident b\n"
    );
    assert_eq!(expr_tree("- -a"), "unary -\n  unary -\n    ident a\n");
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        expr_tree("(1 + 2) * 3"),
        "binary *\n  binary +\n    int 1\n    int 2\n  int 3\n"
    );
}

#[test]
fn calls_and_builtins() {
    assert_eq!(expr_tree("f(a, b)"), "call f\n  ident a\n  ident b\n");
    assert_eq!(expr_tree("exit()"), "call exit\n");
    for builtin in [
        "pid", "comm", "args", "nsecs", "arg0", "retval", "kstack", "curtask",
    ] {
        assert_eq!(expr(builtin), ExprKind::Ident(builtin.to_string()));
    }
}

#[test]
fn field_access() {
    assert_eq!(
        expr_tree("args->filename"),
        "field ->filename\n  ident args\n"
    );
    assert_eq!(expr_tree("a.b.c"), "field .c\n  field .b\n    ident a\n");
    assert_eq!(
        expr_tree("$t->a->b"),
        "field ->b\n  field ->a\n    var $t\n"
    );
    let ExprKind::Field { arrow, field, .. } = expr("args.x") else {
        panic!()
    };
    assert!(!arrow);
    assert_eq!(field.node, "x");
}

#[test]
fn if_else_chains() {
    let t = stmt_tree("if ($x) { $y = 1; } else if ($z) { $y = 2 } else { $y = 3 }");
    let expected = "if\n  var $x\n  then\n    assign\n      var $y\n      int 1\n  else\n    if\n      var $z\n      then\n        assign\n          var $y\n          int 2\n      else\n        assign\n          var $y\n          int 3\n";
    assert_eq!(t, expected);
    assert_eq!(stmt_tree("if (1) { }"), "if\n  int 1\n  then\n");
}

#[test]
fn comments_are_ignored() {
    let t = tree("// line\n/* block\n { */ BEGIN /* x */ { // y\n $x = 1; /* } */ }\n// end");
    assert_eq!(t, "probe BEGIN\n  assign\n    var $x\n    int 1\n");
    let t = tree("BEGIN/*c*/{ }\nkprobe:f // trailing\n{ }");
    assert_eq!(t, "probe BEGIN\nprobe kprobe:f\n  attach kprobe [\"f\"]\n");
}

#[test]
fn spans_cover_the_source() {
    let src = "BEGIN { $x = 1 + 2; }";
    let probe = first_probe(ok(src));
    let stmt = &probe.body.stmts[0];
    assert_eq!(&src[stmt.span.range()], "$x = 1 + 2");
    let StmtKind::Assign { value, .. } = &stmt.kind else {
        panic!()
    };
    assert_eq!(&src[value.span.range()], "1 + 2");
    let src = "BEGIN { $x = (1 + 2) * f(3); }";
    let probe = first_probe(ok(src));
    let StmtKind::Assign { value, .. } = &probe.body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(&src[value.span.range()], "(1 + 2) * f(3)");
}

#[test]
fn many_probes_in_order() {
    let program = ok("BEGIN { } kprobe:a { } END { }");
    let names: Vec<String> = program
        .items
        .iter()
        .map(|i| match i {
            Item::Probe(p) => p.attach[0].raw.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(names, ["BEGIN", "kprobe:a", "END"]);
}
