//! The LLVM backend against the direct one, on every snapshot case program, a few
//! arithmetic edge cases and a probe whose slots fit the stack only when they share
//! bytes: both produce objects with the same maps, programs and sections, and the
//! kernel's verifier accepts every LLVM-compiled program (when root; skipped loudly
//! otherwise, failing instead when `EBPFC_REQUIRE_KERNEL=1`).

#![cfg(feature = "llvm")]

mod kernel;

use aya_obj::Object;
use ebpfc_codegen::Backend;
use ebpfc_compiler::ir::Module;
use ebpfc_compiler::tracefs::TraceFs;
use kernel::{kernel_available, load_all};
use std::path::{Path, PathBuf};

/// Programs beyond the snapshot cases: BPF's division, modulo and shift semantics.
const EXTRA: &[&str] = &[
    r#"BEGIN { $x = -7; printf("%d %d %d %d %u\n", $x / 2, $x % 3, $x >> 1, $x & 0xff, (uint8)$x); exit(); }"#,
    r#"BEGIN { $z = 0; $x = 9; printf("%d %d %d %d\n", $x / $z, $x % $z, $x << 65, $x >> $x); exit(); }"#,
    r#"BEGIN { @c = count(); @s = sum(5); @mn = min(3); @mx = max(9); @a = avg(3); @st = stats(2); exit(); }"#,
    // More slot bytes than the stack holds, in statements whose buffers can share bytes.
    r#"tracepoint:syscalls:sys_enter_openat { @a[str(args->filename)] = count(); @b[str(args->filename)] = count(); @c[str(args->filename)] = count(); @d[str(args->filename)] = count(); @e[str(args->filename)] = count(); @f[str(args->filename)] = count(); @g[str(args->filename)] = count(); }"#,
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compile(source: &str) -> Module {
    let program = ebpfc_parser::parse(source).expect("parses");
    let fixtures = TraceFs::at(workspace().join("snapshot-tests/fixtures/tracefs"));
    ebpfc_compiler::compile(&program, &fixtures)
        .unwrap_or_else(|e| panic!("compiles: {e:?}\n{source}"))
}

/// Every program the tests compile: the snapshot cases of the `ir` and `asm` stages,
/// then [`EXTRA`].
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stage in ["ir", "asm"] {
        let dir = workspace().join("snapshot-tests/cases").join(stage);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("case directory")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bt"))
            .collect();
        paths.sort();
        for p in paths {
            let name = format!("{stage}/{}", p.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    let extra = EXTRA.iter().enumerate();
    out.extend(extra.map(|(i, s)| (format!("extra/{i}"), s.to_string())));
    out
}

/// Sorted (program name, section) pairs and map names of a parsed object.
fn structure(object: &Object) -> (Vec<(String, String)>, Vec<String>) {
    let mut programs: Vec<(String, String)> = object
        .programs
        .iter()
        .map(|(name, p)| (name.clone(), format!("{:?}", p.section)))
        .collect();
    programs.sort();
    let mut maps: Vec<String> = object.maps.keys().cloned().collect();
    maps.sort();
    (programs, maps)
}

#[test]
fn both_backends_write_the_same_objects() {
    for (name, source) in corpus() {
        let module = compile(&source);
        let direct = ebpfc_codegen::emit(&module, Backend::Bytecode).unwrap();
        let llvm = ebpfc_codegen::emit(&module, Backend::Llvm)
            .unwrap_or_else(|e| panic!("{name}: LLVM backend: {e}"));
        let direct = Object::parse(&direct).expect("direct object parses");
        let llvm = Object::parse(&llvm).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(structure(&direct), structure(&llvm), "{name}");
        assert!(!llvm.programs.is_empty(), "{name}");
    }
}

#[test]
fn llvm_ir_defines_every_program() {
    for (name, source) in corpus() {
        let module = compile(&source);
        let ir = ebpfc_codegen::emit_llvm_ir(&module).unwrap();
        for f in &module.functions {
            let define = format!("@{}(ptr", f.name);
            assert!(
                ir.contains("define ") && ir.contains(&define),
                "{name}:\n{ir}"
            );
            assert!(ir.contains(&format!("section \"{}\"", f.section)), "{name}");
        }
    }
}

#[test]
fn llvm_objects_hold_only_code_and_map_references() {
    for (name, source) in corpus() {
        let module = compile(&source);
        let spec = ebpfc_codegen::object_spec(&module, Backend::Llvm).unwrap();
        for p in &spec.programs {
            assert_eq!(p.code.len() % 8, 0, "{name}");
            for (at, map) in &p.map_relocs {
                assert_eq!(p.code[at * 8], 0x18, "{name}: relocation not on ld_imm64");
                assert!(spec.maps.iter().any(|m| &m.name == map), "{name}: {map}");
            }
        }
    }
}

#[test]
fn instruction_counts_cover_every_program() {
    let module = compile(EXTRA[2]);
    for backend in [Backend::Bytecode, Backend::Llvm] {
        let counts = ebpfc_codegen::instruction_counts(&module, backend).unwrap();
        let names: Vec<&str> = counts.iter().map(|(n, _)| n.as_str()).collect();
        let want: Vec<&str> = module.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, want);
        assert!(counts.iter().all(|(_, n)| *n > 0));
    }
}

#[test]
fn oversized_stack_is_a_user_error() {
    use ebpfc_compiler::ir::{Base, Inst, Operand, Slot, SlotId};
    let mut module = compile(EXTRA[0]);
    let f = &mut module.functions[0];
    let big = SlotId(f.slots.len() as u32);
    f.slots.push(Slot { size: 1024 });
    f.blocks[0].insts.push(Inst::Store {
        base: Base::Slot(big),
        offset: 1016,
        size: 8,
        value: Operand::Imm(1),
    });
    let err = ebpfc_codegen::emit(&module, Backend::Llvm).unwrap_err();
    assert!(matches!(err, ebpfc_codegen::CodegenError::User(_)), "{err}");
}

#[test]
fn spills_past_the_stack_limit_are_a_user_error() {
    use ebpfc_compiler::ir::{AluOp, Arg, Base, Block, Function, Inst, Operand, Slot, SlotId};
    use ebpfc_compiler::ir::{Term, VReg};
    // Seven context fields stay live across a helper call next to a 512-byte slot: more
    // values than callee-saved registers, so LLVM spills past the stack limit.
    let mut insts = vec![Inst::Ctx { dst: VReg(0) }];
    insts.extend((1..8).map(|i| Inst::Load {
        dst: VReg(i),
        base: Base::Reg(VReg(0)),
        offset: 8 * i as i32,
        size: 8,
        signed: false,
    }));
    let call = Inst::Call {
        dst: Some(VReg(8)),
        helper: 14,
        name: "get_current_pid_tgid",
        args: vec![Arg::Slot(SlotId(0), 0)],
    };
    insts.push(call.clone());
    insts.extend((1..8).map(|i| Inst::Alu {
        dst: VReg(8),
        op: AluOp::Add,
        lhs: VReg(8),
        rhs: Operand::Reg(VReg(i)),
    }));
    insts.push(Inst::Store {
        base: Base::Slot(SlotId(0)),
        offset: 504,
        size: 8,
        value: Operand::Reg(VReg(8)),
    });
    insts.push(call);
    let function = Function {
        name: "spiller".into(),
        section: "raw_tp/ebpfc_begin".into(),
        blocks: vec![Block {
            insts,
            term: Term::Return(Operand::Imm(0)),
        }],
        slots: vec![Slot { size: 512 }],
        vregs: 9,
        callbacks: Vec::new(),
    };
    let module = Module {
        functions: vec![function],
        ..Module::default()
    };
    let err = ebpfc_codegen::emit(&module, Backend::Llvm).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, ebpfc_codegen::CodegenError::User(_)) && message.contains("'spiller'"),
        "{message}"
    );
}

#[test]
fn kernel_verifier_accepts_llvm_programs() {
    if !kernel_available("kernel_verifier_accepts_llvm_programs") {
        return;
    }
    let (mut failures, mut loaded) = (Vec::new(), 0);
    for (name, source) in corpus() {
        let module = compile(&source);
        let object = ebpfc_codegen::emit(&module, Backend::Llvm).unwrap();
        match load_all(&name, &object) {
            Ok(n) => loaded += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(loaded > 0);
    eprintln!("the verifier accepted {loaded} LLVM-compiled programs");
}
