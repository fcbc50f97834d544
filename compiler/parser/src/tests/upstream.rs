//! Spellings of current upstream bpftrace: block expressions, discards, tuple and
//! unsized array types, trailing commas in probe lists, named probes, casts to
//! typedefs before prefix operators, `for` without parentheses, keywords as fields.

use super::{errors, expr_tree, first_probe, ok, rendered, stmt_tree, tree};

#[test]
fn block_expressions() {
    assert_eq!(
        stmt_tree("let $a = { let $b = 1; $b };"),
        "let $a\n  block\n    let $b\n      int 1\n    expr\n      var $b\n"
    );
    assert_eq!(
        expr_tree("f({ 1 }, { $x })"),
        "call f\n  block\n    expr\n      int 1\n  block\n    expr\n      var $x\n"
    );
    assert_eq!(
        expr_tree("1 + { 2 } * 3"),
        "binary +\n  int 1\n  binary *\n    block\n      expr\n        int 2\n    int 3\n"
    );
}

#[test]
fn a_block_ending_in_if_else_or_a_block_has_that_value() {
    assert_eq!(
        stmt_tree("$c = { if ($a) { 1 } else { 2 } };"),
        "assign\n  var $c\n  block\n    expr\n      if-expr\n        var $a\n        then\n          expr\n            int 1\n        else\n          expr\n            int 2\n"
    );
    assert_eq!(
        stmt_tree("$c = { { 1 } };"),
        "assign\n  var $c\n  block\n    expr\n      block\n        expr\n          int 1\n"
    );
}

#[test]
fn a_brace_at_the_start_of_a_statement_is_a_nested_block() {
    assert_eq!(stmt_tree("{ 5 }"), "block\n  expr\n    int 5\n");
}

#[test]
fn blocks_without_a_value_are_reported() {
    assert_eq!(
        errors("BEGIN { $x = { 1; }; $y = { }; $z = { $a = 1 }; }"),
        [
            "1:16: this block has no value",
            "1:27: this block has no value",
            "1:39: this block has no value",
        ]
    );
    let text = rendered("BEGIN { $x = { 1; }; }");
    assert!(text.contains("remove the ';'"), "{text}");
}

#[test]
fn if_expressions_as_arguments() {
    assert_eq!(
        expr_tree("f(if ($a) { 1 } else { 2 })"),
        "call f\n  if-expr\n    var $a\n    then\n      expr\n        int 1\n    else\n      expr\n        int 2\n"
    );
}

#[test]
fn discard_assignments() {
    assert_eq!(
        stmt_tree("_ = has_key(@a, 1);"),
        "assign\n  ident _\n  call has_key\n    map @a\n    int 1\n"
    );
    assert_eq!(
        errors("BEGIN { _ += 1; }"),
        ["1:9: cannot assign to this expression"]
    );
}

#[test]
fn tuple_types() {
    assert_eq!(
        stmt_tree("let $t: (int64, string[8]) = (1, \"a\");"),
        "let $t: (int64, string[8])\n  tuple\n    int 1\n    str \"a\"\n"
    );
    assert_eq!(
        stmt_tree("let $t: ((int8,), ());"),
        "let $t: ((int8,), ())\n"
    );
    assert_eq!(
        tree("fn f($p: (int64, int64)): (int64, bool) { return ($p.0, true); }"),
        "fn f($p: (int64, int64)): (int64, bool)\n  return\n    tuple\n      tuple-index .0\n        var $p\n      bool true\n"
    );
}

#[test]
fn empty_and_one_element_tuples() {
    assert_eq!(expr_tree("()"), "tuple\n");
    assert_eq!(expr_tree("(1,)"), "tuple\n  int 1\n");
}

#[test]
fn unsized_array_casts() {
    assert_eq!(expr_tree("(int8[])$a"), "cast (int8[])\n  var $a\n");
    assert_eq!(
        expr_tree("(uint8[8])12345"),
        "cast (uint8[8])\n  int 12345\n"
    );
}

#[test]
fn trailing_comma_in_probe_lists() {
    let probe = first_probe(ok("kprobe:a, kprobe:b, { }"));
    assert_eq!(probe.attach.len(), 2);
    let probe = first_probe(ok("tracepoint:x:y,\ntracepoint:x:z,\n/pid/ { }"));
    assert_eq!(probe.attach.len(), 2);
    assert!(probe.predicate.is_some());
}

#[test]
fn named_probes() {
    let probe = first_probe(ok("mine=kprobe:vfs_read { }"));
    let point = &probe.attach[0];
    assert_eq!(point.provider, "kprobe");
    assert_eq!(point.parts, ["vfs_read"]);
    assert_eq!(point.raw, "mine=kprobe:vfs_read");
}

#[test]
fn casts_to_typedefs_before_prefix_operators() {
    assert_eq!(
        expr_tree("(sector_t)-1"),
        "cast (sector_t)\n  unary -\n    int 1\n"
    );
    assert_eq!(
        expr_tree("(size_t)*$p"),
        "cast (size_t)\n  unary *\n    var $p\n"
    );
    assert_eq!(
        expr_tree("(__u32)&$x"),
        "cast (__u32)\n  unary &\n    var $x\n"
    );
    assert_eq!(
        expr_tree("(pid_t)--$i"),
        "cast (pid_t)\n  prefix --\n    var $i\n"
    );
}

#[test]
fn other_parenthesised_names_before_operators_stay_arithmetic() {
    assert_eq!(expr_tree("(pid) - 1"), "binary -\n  ident pid\n  int 1\n");
    assert_eq!(expr_tree("(MAX) - 1"), "binary -\n  ident MAX\n  int 1\n");
    assert_eq!(
        expr_tree("(size_t) * 2"),
        "binary *\n  ident size_t\n  int 2\n"
    );
    assert_eq!(expr_tree("(x) & y"), "binary &\n  ident x\n  ident y\n");
}

#[test]
fn for_without_parentheses() {
    assert_eq!(
        stmt_tree("for $kv : @m { }"),
        "for $kv in map\n  map @m\n  do\n"
    );
    assert_eq!(
        stmt_tree("for $i : 0..5 { }"),
        "for $i in range\n  int 0\n  int 5\n  do\n"
    );
}

#[test]
fn keywords_as_field_names() {
    assert_eq!(
        expr_tree("$x->if + $y.return + $z.struct"),
        "binary +\n  binary +\n    field ->if\n      var $x\n    field .return\n      var $y\n  field .struct\n    var $z\n"
    );
}

#[test]
fn preprocessor_lines_inside_probes_are_reported_once() {
    assert_eq!(
        errors("BEGIN {\n  #define X 1\n  $x = 1;\n}"),
        ["2:3: a preprocessor line is not allowed here"]
    );
}
