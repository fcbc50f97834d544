//! The kernel type database against the committed vmlinux BTF fixture (Linux 6.18,
//! x86-64): lookups, members, bitfields, enums, functions and tracepoint types.

use ebpfc_compiler::btf::{Aggregate, CType, IntEncoding, KernelTypes};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vmlinux.btf");

fn types() -> KernelTypes {
    KernelTypes::from_file(FIXTURE).expect("fixture opens")
}

fn strukt(types: &KernelTypes, name: &str) -> Aggregate {
    types.struct_named(name).unwrap().expect(name)
}

fn int(size: u32, signed: bool) -> CType {
    CType::Int {
        size,
        signed,
        encoding: IntEncoding::Plain,
    }
}

#[test]
fn task_struct_pid_is_a_signed_int() {
    let types = types();
    let task = strukt(&types, "task_struct");
    assert_eq!(task.size, 3264);
    let pid = types.field(&task, "pid").unwrap().unwrap();
    assert_eq!(pid.offset_bits, 10112);
    assert_eq!(pid.offset_bytes(), 1264);
    assert_eq!(pid.ty, int(4, true));
    assert!(!pid.is_bitfield());
    assert_eq!(types.type_name(pid.type_id).unwrap(), "pid_t");
    assert_eq!(types.field(&task, "no_such_field").unwrap(), None);
}

#[test]
fn real_parent_pid_chain_resolves_through_a_pointer() {
    let types = types();
    let task = strukt(&types, "task_struct");
    let parent = types.field(&task, "real_parent").unwrap().unwrap();
    assert_eq!(
        types.type_name(parent.type_id).unwrap(),
        "struct task_struct *"
    );
    let pointee = types.resolve(parent.ty.pointee().unwrap()).unwrap();
    assert_eq!(pointee.as_aggregate(), Some(&task));
    let pid = types.field(&task, "pid").unwrap().unwrap();
    assert_eq!(pid.offset_bits, 10112);
}

#[test]
fn comm_is_a_char_array() {
    let types = types();
    let comm = types
        .field(&strukt(&types, "task_struct"), "comm")
        .unwrap()
        .unwrap();
    let char_ty = CType::Int {
        size: 1,
        signed: false,
        encoding: IntEncoding::Char,
    };
    let want = CType::Array {
        elem: Box::new(char_ty),
        len: 16,
    };
    assert_eq!(comm.ty, want);
    assert_eq!(comm.ty.size(), Some(16));
    assert_eq!(comm.offset_bytes(), 1752);
    assert_eq!(types.type_name(comm.type_id).unwrap(), "char[16]");
}

#[test]
fn bitfields_carry_their_width_and_bit_offset() {
    let types = types();
    let task = strukt(&types, "task_struct");
    let bit = types
        .field(&task, "sched_contributes_to_load")
        .unwrap()
        .unwrap();
    assert_eq!((bit.offset_bits, bit.bitfield_size), (9505, 1));
    let skb = strukt(&types, "sk_buff");
    let fclone = types.field(&skb, "fclone").unwrap().unwrap();
    assert_eq!((fclone.offset_bits, fclone.bitfield_size), (1010, 2));
}

#[test]
fn anonymous_members_are_reached_with_combined_offsets() {
    let types = types();
    let skb = strukt(&types, "sk_buff");
    let offset = |name: &str| types.field(&skb, name).unwrap().unwrap().offset_bits;
    assert_eq!(offset("next"), 0);
    assert_eq!(offset("prev"), 64);
    assert_eq!(offset("tstamp"), 256);
    assert_eq!(offset("destructor"), 768);
    assert_eq!(offset("len"), 896);
    let fields = types.fields(&skb).unwrap();
    let tstamp = fields.iter().find(|f| f.name == "tstamp").unwrap();
    assert_eq!(tstamp.offset_bits, 256);
    assert!(fields.iter().all(|f| !f.name.is_empty()));
    let members = types.members(&skb).unwrap();
    assert_eq!(members.len(), 28);
    assert_eq!(members[0].name, "");
    assert!(matches!(members[0].ty, CType::Union(_)));
    assert!(types
        .field_names(&skb)
        .unwrap()
        .contains(&"destructor".to_string()));
}

#[test]
fn enums_list_their_values() {
    let types = types();
    let pid_type = types.enum_named("pid_type").unwrap().unwrap();
    assert_eq!((pid_type.size, pid_type.signed), (4, false));
    let variants = types.enum_variants(&pid_type).unwrap();
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "PIDTYPE_PID",
            "PIDTYPE_TGID",
            "PIDTYPE_PGID",
            "PIDTYPE_SID",
            "PIDTYPE_MAX"
        ]
    );
    assert_eq!(
        types.enum_value(&pid_type, "PIDTYPE_TGID").unwrap(),
        Some(1)
    );
    let (owner, value) = types.enum_constant("PIDTYPE_SID").unwrap().unwrap();
    assert_eq!((owner.name.as_deref(), value), (Some("pid_type"), 3));
    assert_eq!(types.enum_constant("NOT_AN_ENUMERATOR").unwrap(), None);
}

#[test]
fn enum64_values_keep_all_64_bits() {
    let types = types();
    let ctx = types.enum_named("perf_callchain_context").unwrap().unwrap();
    assert_eq!(ctx.size, 8);
    let max = types.enum_value(&ctx, "PERF_CONTEXT_MAX").unwrap();
    assert_eq!(max, Some(18446744073709547521));
}

#[test]
fn vfs_read_has_four_named_parameters() {
    let types = types();
    let read = types.func_named("vfs_read").unwrap().unwrap();
    assert_eq!(read.name.as_deref(), Some("vfs_read"));
    let names: Vec<_> = read
        .params
        .iter()
        .map(|p| p.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["file", "buf", "count", "pos"]);
    let spelled: Vec<String> = read
        .params
        .iter()
        .map(|p| types.type_name(p.type_id).unwrap())
        .collect();
    assert_eq!(spelled, ["struct file *", "char *", "size_t", "loff_t *"]);
    assert_eq!(read.params[2].ty, int(8, false));
    assert_eq!(read.ret, int(8, true));
    assert_eq!(types.type_name(read.ret_id).unwrap(), "ssize_t");
    assert!(!read.variadic);
}

#[test]
fn sched_switch_trace_event_record() {
    let types = types();
    let record = types.trace_event_struct("sched_switch").unwrap().unwrap();
    assert_eq!(record.size, 64);
    let offsets: Vec<(String, u32)> = types
        .fields(&record)
        .unwrap()
        .into_iter()
        .map(|f| (f.offset_bytes(), f.name))
        .map(|(o, n)| (n, o))
        .collect();
    let want = [
        ("ent", 0),
        ("prev_comm", 8),
        ("prev_pid", 24),
        ("prev_prio", 28),
        ("prev_state", 32),
        ("next_comm", 40),
        ("next_pid", 56),
        ("next_prio", 60),
        ("__data", 64),
    ];
    let want: Vec<(String, u32)> = want.iter().map(|(n, o)| (n.to_string(), *o)).collect();
    assert_eq!(offsets, want);
    assert_eq!(types.trace_event_struct("no_such_event").unwrap(), None);
}

#[test]
fn sched_switch_raw_tracepoint_arguments() {
    let types = types();
    let args = types.raw_tp_args("sched_switch").unwrap().unwrap();
    let names: Vec<_> = args.iter().map(|p| p.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("preempt"),
            Some("prev"),
            Some("next"),
            Some("prev_state")
        ]
    );
    let spelled: Vec<String> = args
        .iter()
        .map(|p| types.type_name(p.type_id).unwrap())
        .collect();
    assert_eq!(
        spelled,
        [
            "bool",
            "struct task_struct *",
            "struct task_struct *",
            "unsigned int"
        ]
    );
    assert!(matches!(
        args[0].ty,
        CType::Int {
            encoding: IntEncoding::Bool,
            ..
        }
    ));
    assert_eq!(types.raw_tp_args("no_such_tracepoint").unwrap(), None);
}

#[test]
fn typedefs_unions_and_misses() {
    let types = types();
    let pid_t = types.typedef_named("pid_t").unwrap().unwrap();
    assert_eq!(pid_t.ty, int(4, true));
    let attr = types.union_named("bpf_attr").unwrap().unwrap();
    assert!(attr.size > 0);
    assert!(matches!(types.resolve(attr.id).unwrap(), CType::Union(_)));
    assert_eq!(types.struct_named("bpf_attr").unwrap(), None);
    assert_eq!(types.struct_named("no_such_struct").unwrap(), None);
    assert_eq!(types.func_named("task_struct").unwrap(), None);
}

#[test]
fn near_names_suggest_typos() {
    let types = types();
    let near = types.struct_name_near("task_strcut").unwrap();
    assert_eq!(near.as_deref(), Some("task_struct"));
    assert_eq!(
        types.struct_name_near("zzzzzzzzzzzzzzzzzzzzzz").unwrap(),
        None
    );
}

#[test]
fn function_pointers_are_spelled_like_c() {
    let types = types();
    let ops = strukt(&types, "file_operations");
    let read = types.field(&ops, "read").unwrap().unwrap();
    assert_eq!(
        types.type_name(read.type_id).unwrap(),
        "ssize_t (*)(struct file *, char *, size_t, loff_t *)"
    );
    let sig = types.signature(read.type_id).unwrap();
    assert_eq!(sig.params.len(), 4);
    assert_eq!(sig.name, None);
}

#[test]
fn every_type_resolves_and_every_aggregate_lists_its_fields() {
    let types = types();
    let ids = types.type_ids().unwrap();
    assert_eq!(ids.len(), 126_610);
    let (mut fields, mut not_types) = (0, 0);
    for id in ids {
        types.type_name(id).unwrap();
        let Ok(ty) = types.resolve(id) else {
            not_types += 1;
            continue;
        };
        if let Some(agg) = ty.as_aggregate() {
            fields += types.fields(agg).unwrap().len();
        }
    }
    // VAR (352), DATASEC (1) and DECL_TAG (205) records describe no type.
    assert_eq!(not_types, 558);
    assert_eq!(fields, 92_457);
}
