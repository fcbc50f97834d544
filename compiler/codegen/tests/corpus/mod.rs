//! The programs the backend tests compile: the snapshot cases, the benchmark programs
//! and examples that compile against the committed fixtures, and [`EXTRA`].

#![allow(dead_code)]

use ebpfc_compiler::ir::Module;
use ebpfc_compiler::tracefs::TraceFs;
use std::path::{Path, PathBuf};

/// Programs aimed at the optimizations: constants through variables, loops and slots,
/// decided and threaded branches, dead stores, copies, spills, eBPF's arithmetic.
pub const EXTRA: &[&str] = &[
    r#"BEGIN { $z = 0; $x = 9; printf("%d %d %d %d %d\n", $x / $z, $x % $z, $x << 65, $x >> $x, -$x / 2); exit(); }"#,
    r#"BEGIN { $i = 0; $t = 0; while ($i < 10) { $t += $i * $i; $i++; } printf("%d %d\n", $i, $t); exit(); }"#,
    r#"BEGIN { $i = 0; $odd = 0; while ($i < 50) { $i++; if ($i % 2 == 0) { continue; } if ($i > 9) { break; } $odd += $i; } $p = 1; unroll(5) { $p = $p * 3; } printf("%d %d\n", $odd, $p); }"#,
    r#"tracepoint:syscalls:sys_enter_read { $x = (int64)args->count - 100; @d = sum($x / 3); @m = sum($x % 7); @s = sum($x >> 2); @u = sum((uint8)$x); @n = sum(-$x); }"#,
    r#"tracepoint:syscalls:sys_enter_read { $c = args->count; $f = args->fd; if ($c > 4096 && $f != 0 || $c == 1) { @big[$f] = count(); } else if ($c == 0) { @zero = count(); } else { @small = hist($c); } }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "cat" || comm == "head"/ { @f[comm, str(args->filename)] = count(); @fl = lhist(args->flags, 0, 1024, 64); }"#,
    r#"tracepoint:sched:sched_switch /args->prev_comm != "swapper/0" && args->next_pid > 0/ { @[args->next_comm] = count(); @p = max(args->prev_pid); @q = min(args->next_pid); }"#,
    r#"tracepoint:syscalls:sys_enter_read { $a = args->fd; $b = args->count; $c = pid; $d = tid; $e = cpu; $f = uid; $g = $a * $b; $h = $c ^ $d; printf("%d %d %d %d %d %d %d %d\n", $a + $b, $b - $c, $c * $d, $d & $e, $e | $f, $f + $a, $g, $h); }"#,
    r#"tracepoint:syscalls:sys_exit_read { @s[tid] = @s[tid] + args->ret; @c = count(); if (@s[tid] > 1000) { delete(@s[tid]); } @a = avg(args->ret); @st = stats(args->ret); }"#,
    r#"tracepoint:syscalls:sys_enter_openat { $k = args->flags & 3; $name = $k == 0 ? "rd" : "wr"; @m[$name] = count(); $v = $k == 1 ? 10 : 20; @v = sum($v); }"#,
    r#"BEGIN { @x = 5; @x += 3; @x -= 1; @x *= 2; $y = @x; @y["k", 2] = $y + 1; printf("%d %d\n", @x, $y * 2 + @x); exit(); }"#,
    r#"interval:ms:100 { $n = nsecs; @t = sum($n % 1000); @h = hist($n & 0xffff); if ($n & 1) { @odd = count(); } }"#,
    r#"BEGIN { $s = "abc"; if ($s == "abc") { printf("eq\n"); } if ($s != "abd") { printf("ne\n"); } @m[$s] = 1; exit(); }"#,
    r#"BEGIN { $a = 10; $b = 3; $n = -9; printf("%d %d %d %d %d %d %d %d %d %d %d\n", $a - $b, $a * $b, $a / $b, $a % $b, $a & $b, $a | $b, $a ^ $b, $a << $b, $a >> 1, $n / $b, $n % $b); exit(); }"#,
    r#"BEGIN { $a = 7; $b = $a > 3 ? 1 : 2; $c = $a == 7; $d = $a != 7; $e = (int8)300; $f = (uint16)-1; printf("%d %d %d %d %d\n", $b, $c, $d, $e, $f); exit(); }"#,
    r#"tracepoint:syscalls:sys_enter_write { $i = 0; $t = 0; while ($i < 10) { $t += $i * args->count; $i++; } @t = sum($t); }"#,
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compiles `source` against the committed tracefs and BTF fixtures.
pub fn compile(source: &str) -> Result<Module, String> {
    compile_allowing(source, false)
}

/// [`compile`], with `--unsafe` when `allow_unsafe`.
pub fn compile_allowing(source: &str, allow_unsafe: bool) -> Result<Module, String> {
    let program = ebpfc_parser::parse(source).map_err(|e| format!("{e:?}"))?;
    let fixtures = TraceFs::at(workspace().join("snapshot-tests/fixtures/tracefs"));
    let btf = workspace().join("compiler/tests/fixtures/vmlinux.btf");
    let options = ebpfc_compiler::Options {
        btf: ebpfc_compiler::ctypes::BtfChoice::File(btf),
        allow_unsafe,
        ..Default::default()
    };
    ebpfc_compiler::compile_with(&program, &fixtures, &options).map_err(|e| format!("{e:?}"))
}

/// Every `.bt` file of `dir` that compiles against the fixtures.
fn compiled_files(dir: &Path) -> Vec<(String, Module)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "bt"));
    paths.sort();
    let named = paths.into_iter().filter_map(|p| {
        let module = compile(&std::fs::read_to_string(&p).ok()?).ok()?;
        Some((p.display().to_string(), module))
    });
    named.collect()
}

/// Every program of the corpus, named.
pub fn corpus() -> Vec<(String, Module)> {
    let mut out = Vec::new();
    for dir in ["ir", "asm", "llvm", "typed"] {
        out.extend(compiled_files(
            &workspace().join("snapshot-tests/cases").join(dir),
        ));
    }
    out.extend(compiled_files(&workspace().join("scripts/bench-programs")));
    out.extend(compiled_files(&workspace().join("examples")));
    for (i, source) in EXTRA.iter().enumerate() {
        let module = compile(source).unwrap_or_else(|e| panic!("extra/{i}: {e}\n{source}"));
        out.push((format!("extra/{i}"), module));
    }
    out
}
