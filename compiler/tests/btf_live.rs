//! The kernel type database on the running kernel's `/sys/kernel/btf`: vmlinux lookups
//! and module split BTF. Each test says so and passes when the kernel has no BTF.

use ebpfc_compiler::btf::{CType, KernelTypes, Kind};
use std::path::Path;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vmlinux.btf");

fn system() -> Option<KernelTypes> {
    if !Path::new(VMLINUX).exists() {
        eprintln!("SKIP: {VMLINUX} is missing; live BTF tests did not run");
        return None;
    }
    Some(KernelTypes::system().expect("system BTF opens"))
}

#[test]
fn live_task_struct_pid_chain() {
    let Some(types) = system() else { return };
    let task = types.struct_named("task_struct").unwrap().unwrap();
    let parent = types.field(&task, "real_parent").unwrap().unwrap();
    let parent = types.resolve(parent.ty.pointee().unwrap()).unwrap();
    let pid = types
        .field(parent.as_aggregate().unwrap(), "pid")
        .unwrap()
        .unwrap();
    assert!(matches!(
        pid.ty,
        CType::Int {
            size: 4,
            signed: true,
            ..
        }
    ));
    assert!(pid.offset_bytes() > 0 && pid.offset_bytes() < task.size);
    let same_kernel = std::fs::read(VMLINUX).ok() == std::fs::read(FIXTURE).ok();
    if same_kernel {
        assert_eq!(
            pid.offset_bits, 10112,
            "the fixture was taken from this kernel"
        );
    }
}

#[test]
fn live_functions_and_tracepoints() {
    let Some(types) = system() else { return };
    let read = types.func_named("vfs_read").unwrap().unwrap();
    assert_eq!(read.params.len(), 4);
    let args = types.raw_tp_args("sched_switch").unwrap().unwrap();
    assert!(args.len() >= 3);
    assert!(types.trace_event_struct("sched_switch").unwrap().is_some());
}

#[test]
fn live_module_types_resolve_from_split_btf() {
    let Some(types) = system() else { return };
    let names = types.module_names();
    assert!(
        types.module_failures().is_empty(),
        "{:?}",
        types.module_failures()
    );
    let module_struct = types
        .names_of(&[Kind::Struct])
        .unwrap()
        .into_iter()
        .find(|(_, id)| id.in_module());
    let Some((name, id)) = module_struct else {
        eprintln!(
            "SKIP: no module struct in split BTF ({} modules)",
            names.len()
        );
        return;
    };
    let found = types.struct_named(name).unwrap().unwrap();
    if found.id.in_module() {
        assert_eq!(found.id, id);
    }
    let module = types.source_name(id).unwrap();
    assert!(names.contains(&module));
    types.fields(&found).unwrap();
}
