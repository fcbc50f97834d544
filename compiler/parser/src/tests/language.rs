//! The rest of the language: top-level items, declarations, casts, pointers, tuples,
//! records, sizeof/offsetof, ternaries, increments, loops and control flow.

use super::{expr, expr_tree, ok, stmt_tree, tree};
use crate::ast::{ExprKind, Item, SizeOfArg, TypeKind};

#[test]
fn shebang_and_preprocessor_lines() {
    let t =
        tree("#!/usr/bin/env ebpfc\n#include <linux/sched.h>\n#define X 1 \\\n  + 2\nBEGIN { }");
    assert_eq!(
        t,
        "preprocessor \"#include <linux/sched.h>\"\npreprocessor \"#define X 1 \\\\\\n  + 2\"\nprobe BEGIN\n"
    );
}

#[test]
fn c_definitions_are_kept_verbatim() {
    let src =
        "struct foo { int a; char name[16]; }\nunion u { int a; };\nenum e { A = 1 };\nBEGIN { }";
    let program = ok(src);
    let defs: Vec<&str> = program
        .items
        .iter()
        .filter_map(|i| match i {
            Item::CDefinition(d) => Some(d.node.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        defs,
        [
            "struct foo { int a; char name[16]; }",
            "union u { int a; };",
            "enum e { A = 1 };"
        ]
    );
}

#[test]
fn config_blocks() {
    let t = tree("config = { max_map_keys = 10000; stack_mode = perf }\nBEGIN { }");
    assert_eq!(
        t,
        "config\n  max_map_keys =\n    int 10000\n  stack_mode =\n    ident perf\nprobe BEGIN\n"
    );
    assert_eq!(tree("config = { }; BEGIN { }"), "config\nprobe BEGIN\n");
}

#[test]
fn macros() {
    let t = tree("macro add_one($x) { $x + 1 }\nmacro m(@a, b) { @a[b]++; }");
    assert_eq!(
        t,
        "macro add_one($x)\n  expr\n    binary +\n      var $x\n      int 1\nmacro m(@a, b)\n  expr\n    postfix ++\n      map @a\n        ident b\n"
    );
}

#[test]
fn functions() {
    let t = tree("fn add($a: int64, $b: uint32): int64 { return $a + $b; }\nfn f() { return; }");
    assert_eq!(
        t,
        "fn add($a: int64, $b: uint32): int64\n  return\n    binary +\n      var $a\n      var $b\nfn f()\n  return\n"
    );
}

#[test]
fn map_declarations() {
    assert_eq!(
        tree("let @m = lruhash(100);\nlet @n = hash();"),
        "let @m = lruhash\n  int 100\nlet @n = hash\n"
    );
}

#[test]
fn let_statements() {
    assert_eq!(
        stmt_tree("let $x: uint32 = 1;"),
        "let $x: uint32\n  int 1\n"
    );
    assert_eq!(stmt_tree("let $s: string[16];"), "let $s: string[16]\n");
    assert_eq!(stmt_tree("let $y = 2;"), "let $y\n  int 2\n");
    assert_eq!(
        stmt_tree("let $p: struct task_struct **;"),
        "let $p: struct task_struct **\n"
    );
}

#[test]
fn casts() {
    assert_eq!(expr_tree("(uint32)arg0"), "cast (uint32)\n  ident arg0\n");
    assert_eq!(
        expr_tree("(struct task_struct *)arg0"),
        "cast (struct task_struct *)\n  ident arg0\n"
    );
    assert_eq!(
        expr_tree("(unsigned long long)-1"),
        "cast (unsigned long long)\n  unary -\n    int 1\n"
    );
    assert_eq!(expr_tree("(u32)arg0"), "cast (u32)\n  ident arg0\n");
    assert_eq!(expr_tree("(sector_t *)$p"), "cast (sector_t *)\n  var $p\n");
    assert_eq!(expr_tree("(uint8[4])$p"), "cast (uint8[4])\n  var $p\n");
    assert_eq!(
        expr_tree("((struct request *)arg0)->q"),
        "field ->q\n  cast (struct request *)\n    ident arg0\n"
    );
    // A cast binds tighter than any binary operator.
    assert_eq!(
        expr_tree("(int8)a + b"),
        "binary +\n  cast (int8)\n    ident a\n  ident b\n"
    );
}

#[test]
fn parenthesised_names_are_not_casts() {
    assert_eq!(expr_tree("(pid) + 1"), "binary +\n  ident pid\n  int 1\n");
    assert_eq!(expr_tree("(x) * y"), "binary *\n  ident x\n  ident y\n");
    assert_eq!(expr_tree("f(x)"), "call f\n  ident x\n");
}

#[test]
fn pointers_and_indexing() {
    assert_eq!(expr_tree("*$p"), "unary *\n  var $p\n");
    assert_eq!(expr_tree("&$x"), "unary &\n  var $x\n");
    assert_eq!(expr_tree("$a[1] + args->v[$i]"), "binary +\n  index\n    var $a\n    int 1\n  index\n    field ->v\n      ident args\n    var $i\n");
    assert_eq!(expr_tree("**$pp"), "unary *\n  unary *\n    var $pp\n");
}

#[test]
fn tuples_and_records() {
    assert_eq!(expr_tree("(1, \"a\")"), "tuple\n  int 1\n  str \"a\"\n");
    assert_eq!(expr_tree("$t.0"), "tuple-index .0\n  var $t\n");
    assert_eq!(
        expr_tree("$t.1.0"),
        "tuple-index .0\n  tuple-index .1\n    var $t\n"
    );
    assert_eq!(
        expr_tree("(a = 1, b = 2)"),
        "record\n  a =\n    int 1\n  b =\n    int 2\n"
    );
    assert_eq!(expr_tree("$r.b"), "field .b\n  var $r\n");
}

#[test]
fn sizeof_and_offsetof() {
    let ExprKind::SizeOf(arg) = expr("sizeof(uint64)") else {
        panic!()
    };
    assert!(matches!(*arg, SizeOfArg::Type(_)));
    let ExprKind::SizeOf(arg) = expr("sizeof($x)") else {
        panic!()
    };
    assert!(matches!(*arg, SizeOfArg::Expr(_)));
    assert_eq!(
        expr_tree("sizeof(struct task_struct)"),
        "sizeof (struct task_struct)\n"
    );
    assert_eq!(
        expr_tree("offsetof(struct foo, a.b)"),
        "offsetof (struct foo) a.b\n"
    );
    let ExprKind::OffsetOf { ty, fields } = expr("offsetof(struct x, f)") else {
        panic!()
    };
    assert!(matches!(ty.kind, TypeKind::Tagged { .. }));
    assert_eq!(fields.len(), 1);
}

#[test]
fn ternaries() {
    assert_eq!(
        expr_tree("a ? b : c"),
        "ternary\n  ident a\n  ident b\n  ident c\n"
    );
    assert_eq!(expr_tree("a ?: c"), "ternary ?:\n  ident a\n  ident c\n");
    assert_eq!(
        expr_tree("a ? b : c ? d : e"),
        "ternary\n  ident a\n  ident b\n  ternary\n    ident c\n    ident d\n    ident e\n"
    );
    assert_eq!(
        expr_tree("a || b ? 1 : 2"),
        "ternary\n  binary ||\n    ident a\n    ident b\n  int 1\n  int 2\n"
    );
}

#[test]
fn increments_and_decrements() {
    assert_eq!(expr_tree("$x++"), "postfix ++\n  var $x\n");
    assert_eq!(expr_tree("++$x"), "prefix ++\n  var $x\n");
    assert_eq!(expr_tree("@m[1]--"), "postfix --\n  map @m\n    int 1\n");
    assert_eq!(expr_tree("--@m"), "prefix --\n  map @m\n");
}

#[test]
fn loops() {
    assert_eq!(stmt_tree("while ($i < 3) { $i++ }"), "while\n  binary <\n    var $i\n    int 3\n  do\n    expr\n      postfix ++\n        var $i\n");
    assert_eq!(stmt_tree("unroll(2) { }"), "unroll\n  int 2\n  do\n");
    assert_eq!(
        stmt_tree("for ($kv : @m) { }"),
        "for $kv in map\n  map @m\n  do\n"
    );
    assert_eq!(
        stmt_tree("for ($i : 0..$n) { }"),
        "for $i in range\n  int 0\n  var $n\n  do\n"
    );
}

#[test]
fn control_flow_statements() {
    let t = stmt_tree("while (1) { break; continue; return; return 1 }");
    assert_eq!(
        t,
        "while\n  int 1\n  do\n    break\n    continue\n    return\n    return\n      int 1\n"
    );
}

#[test]
fn if_expressions() {
    let t = stmt_tree("$x = if ($a) { 1 } else { 2 };");
    assert_eq!(t, "assign\n  var $x\n  if-expr\n    var $a\n    then\n      expr\n        int 1\n    else\n      expr\n        int 2\n");
    let t = stmt_tree("let $y = if (1) { 1 } else if (2) { 2 } else { 3 };");
    assert!(t.contains("else\n      expr\n        if-expr\n"), "{t}");
}

#[test]
fn nested_blocks() {
    assert_eq!(
        stmt_tree("{ $x = 1 }"),
        "block\n  assign\n    var $x\n    int 1\n"
    );
}

#[test]
fn keywords_items_anywhere_in_order() {
    let program =
        ok("BEGIN { }\nlet @m = hash(1);\nconfig = { a = 1 }\nfn f() { }\nmacro m() { }\nEND { }");
    let kinds: Vec<&str> = program
        .items
        .iter()
        .map(|i| match i {
            Item::Probe(_) => "probe",
            Item::MapDecl(_) => "let",
            Item::Config(_) => "config",
            Item::Function(_) => "fn",
            Item::Macro(_) => "macro",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["probe", "let", "config", "fn", "macro", "probe"]);
}

#[test]
fn fields_named_like_keywords() {
    assert_eq!(expr_tree("attr->config"), "field ->config\n  ident attr\n");
    assert_eq!(expr_tree("$w.fn"), "field .fn\n  var $w\n");
}

#[test]
fn byte_order_mark_is_skipped() {
    assert_eq!(tree("\u{feff}BEGIN { }"), "probe BEGIN\n");
    assert_eq!(tree("\u{feff}#!/bin/ebpfc\nBEGIN { }"), "probe BEGIN\n");
}
