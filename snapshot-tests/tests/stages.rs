//! One snapshot per case file per stage: `cases/<stage>/NAME.bt` is compiled against the
//! committed tracefs fixtures and the stage's output is snapshotted after the source.
//! Kernel types come from the committed BTF fixture.
//! Stages: `ast` (parse tree), `typed` (each expression's type), `ir` (typed IR), `asm` (direct backend disassembly),
//! `diagnostics` (rendered errors), and with the `llvm` feature `llvm` (the LLVM
//! backend's optimized IR).

use ebpfc_compiler::error::CompileError;
use ebpfc_compiler::tracefs::TraceFs;
use std::path::Path;

fn fixtures() -> TraceFs {
    TraceFs::at(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tracefs"))
}

fn source_of(path: &Path) -> String {
    std::fs::read_to_string(path).expect("case file is readable")
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Parses and compiles `source`, rendering any diagnostics into the returned error.
/// Compiler options that read kernel types from the committed BTF fixture.
fn options(record_types: bool) -> ebpfc_compiler::Options {
    let btf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/tests/fixtures/vmlinux.btf");
    ebpfc_compiler::Options {
        btf: ebpfc_compiler::ctypes::BtfChoice::File(btf),
        record_types,
        ..Default::default()
    }
}

fn compile(name: &str, source: &str) -> Result<ebpfc_compiler::ir::Module, String> {
    compile_recording(name, source, false)
}

fn compile_recording(
    name: &str,
    source: &str,
    record_types: bool,
) -> Result<ebpfc_compiler::ir::Module, String> {
    let program =
        ebpfc_parser::parse(source).map_err(|d| ebpfc_parser::render(name, source, &d))?;
    let options = options(record_types);
    ebpfc_compiler::compile_with(&program, &fixtures(), &options).map_err(|e| match e {
        CompileError::User(d) => ebpfc_parser::render(name, source, &d.0),
        CompileError::Bug(b) => panic!("{name}: {b}"),
    })
}

/// The snapshot body: the source, a separator, then the stage output.
fn echo(source: &str, output: &str) -> String {
    format!("{}\n----\n{output}", source.trim_end())
}

#[test]
fn ast() {
    insta::glob!("../cases/ast", "*.bt", |path| {
        let source = source_of(path);
        let output = match ebpfc_parser::parse(&source) {
            Ok(program) => ebpfc_parser::dump(&program),
            Err(d) => ebpfc_parser::render(&name_of(path), &source, &d),
        };
        insta::assert_snapshot!(echo(&source, &output));
    });
}

#[test]
fn typed() {
    insta::glob!("../cases/typed", "*.bt", |path| {
        let source = source_of(path);
        let module = compile_recording(&name_of(path), &source, true).expect("typed cases compile");
        let typed = ebpfc_compiler::typed_dump::dump(&module, &source);
        insta::assert_snapshot!(echo(&source, &typed));
    });
}

#[test]
fn ir() {
    insta::glob!("../cases/ir", "*.bt", |path| {
        let source = source_of(path);
        let module = compile(&name_of(path), &source).expect("ir cases compile");
        insta::assert_snapshot!(echo(&source, &ebpfc_compiler::ir_dump::dump(&module)));
    });
}

#[test]
fn asm() {
    insta::glob!("../cases/asm", "*.bt", |path| {
        let source = source_of(path);
        let module = compile(&name_of(path), &source).expect("asm cases compile");
        let asm = ebpfc_codegen::disassemble(&module).expect("asm cases generate code");
        insta::assert_snapshot!(echo(&source, &asm));
    });
}

#[test]
fn diagnostics() {
    insta::glob!("../cases/diagnostics", "*.bt", |path| {
        let source = source_of(path);
        let rendered =
            compile(&name_of(path), &source).expect_err("diagnostic cases fail to compile");
        assert!(rendered.contains("error"), "{rendered}");
        insta::assert_snapshot!(echo(&source, &rendered));
    });
}

#[cfg(feature = "llvm")]
#[test]
fn llvm() {
    insta::glob!("../cases/llvm", "*.bt", |path| {
        let source = source_of(path);
        let module = compile(&name_of(path), &source).expect("llvm cases compile");
        let ir = ebpfc_codegen::emit_llvm_ir(&module).expect("llvm cases generate code");
        insta::assert_snapshot!(echo(&source, &ir));
    });
}
