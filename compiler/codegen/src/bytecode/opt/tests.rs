//! What the cleanup does to the IR of small programs (compiled against the committed
//! fixtures). Behaviour is checked by interpreting whole corpora in `tests/optimizer.rs`.

use super::optimize;
use ebpfc_compiler::ir::{AluOp, Base, Function, Inst, Operand, Term};
use std::path::Path;

fn optimized(source: &str) -> (Function, Function) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let program = ebpfc_parser::parse(source).expect("parses");
    let tracefs =
        ebpfc_compiler::tracefs::TraceFs::at(root.join("snapshot-tests/fixtures/tracefs"));
    let options = ebpfc_compiler::Options {
        btf: ebpfc_compiler::ctypes::BtfChoice::File(
            root.join("compiler/tests/fixtures/vmlinux.btf"),
        ),
        ..Default::default()
    };
    let module = ebpfc_compiler::compile_with(&program, &tracefs, &options).expect("compiles");
    let f = module.functions[0].clone();
    (optimize(&f), f)
}

fn insts(f: &Function) -> impl Iterator<Item = &Inst> {
    let live = super::cfg::reachable(f);
    f.blocks
        .iter()
        .zip(live)
        .filter(|(_, live)| *live)
        .flat_map(|(b, _)| &b.insts)
}

fn reachable_blocks(f: &Function) -> usize {
    super::cfg::reachable(f).into_iter().filter(|l| *l).count()
}

#[test]
fn a_string_literal_compared_byte_by_byte_is_never_stored() {
    let (after, before) = optimized(
        r#"tracepoint:sched:sched_switch /args->prev_comm == "swapper/0"/ { @ = count(); }"#,
    );
    let slot_loads = |f: &Function| {
        insts(f)
            .filter(|i| {
                matches!(
                    i,
                    Inst::Load {
                        base: Base::Slot(_),
                        ..
                    }
                )
            })
            .count()
    };
    // Each byte of the comm is still read; no byte of the literal is.
    assert_eq!(slot_loads(&after), 10);
    assert!(slot_loads(&before) > 20);
    assert!(reachable_blocks(&after) < reachable_blocks(&before));
}

#[test]
fn a_loop_counter_is_incremented_in_place() {
    let (after, _) = optimized(
        "tracepoint:syscalls:sys_enter_write { $i = 0; while ($i < 10) { $i++; } @ = sum($i); }",
    );
    let copies = insts(&after).filter(|i| {
        matches!(
            i,
            Inst::Mov {
                src: Operand::Reg(_),
                ..
            }
        )
    });
    assert_eq!(copies.count(), 0);
}

#[test]
fn division_by_a_constant_zero_is_folded_not_emitted() {
    let (after, _) = optimized(
        r#"tracepoint:syscalls:sys_enter_read { $z = 0; @ = sum(args->count / $z + args->fd % $z); }"#,
    );
    let by_zero = insts(&after).any(|i| {
        matches!(
            i,
            Inst::Alu {
                op: AluOp::UDiv | AluOp::SDiv | AluOp::UMod | AluOp::SMod,
                rhs: Operand::Imm(0),
                ..
            }
        )
    });
    assert!(!by_zero);
}

#[test]
fn buffers_a_helper_reads_stay_initialized() {
    let (after, before) = optimized("tracepoint:syscalls:sys_enter_read { @[tid] = count(); }");
    let stores = |f: &Function| {
        let mut covered = vec![vec![false; 16]; f.slots.len()];
        for i in insts(f) {
            if let Inst::Store {
                base: Base::Slot(s),
                offset,
                size,
                ..
            } = i
            {
                let at = *offset as usize;
                covered[s.0 as usize][at..at + usize::from(*size)].fill(true);
            }
        }
        covered
    };
    // The key's zero fill is overwritten by the tid before the lookup reads it; every byte
    // a helper reads is still written.
    assert!(insts(&after).count() < insts(&before).count());
    assert_eq!(stores(&after), stores(&before));
}

#[test]
fn a_decided_flag_no_longer_branches() {
    let (after, _) =
        optimized(r#"tracepoint:syscalls:sys_enter_read /pid != 1 || tid > 100/ { @ = count(); }"#);
    let live = super::cfg::reachable(&after);
    let flag_tests = after.blocks.iter().zip(live).filter(|(b, live)| {
        *live
            && b.insts.is_empty()
            && matches!(
                b.term,
                Term::Branch {
                    rhs: Operand::Imm(0),
                    ..
                }
            )
    });
    assert_eq!(flag_tests.count(), 0);
}
