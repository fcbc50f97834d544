//! Corrupt BTF never panics the database: the committed fixture cut at many lengths,
//! with its type section cut inside records, and with bytes overwritten; every lookup
//! returns a value or a `BtfError`.

mod btf_util;

use btf_util::cut_types;
use ebpfc_compiler::btf::KernelTypes;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vmlinux.btf");

fn fixture() -> Vec<u8> {
    std::fs::read(FIXTURE).expect("fixture")
}

/// Every lookup the type checker makes, with results ignored: only panics matter.
fn exercise(bytes: Vec<u8>) {
    let Ok(types) = KernelTypes::from_bytes(bytes) else {
        return;
    };
    if let Ok(Some(task)) = types.struct_named("task_struct") {
        let _ = types.fields(&task);
        let _ = types.members(&task);
        if let Ok(Some(parent)) = types.field(&task, "real_parent") {
            if let Some(to) = parent.ty.pointee() {
                let _ = types.resolve(to).map(|t| t.size());
                let _ = types.type_name(to);
            }
        }
    }
    let _ = types.raw_tp_args("sched_switch");
    let _ = types.trace_event_struct("sched_switch");
    let _ = types
        .enum_named("pid_type")
        .map(|e| e.map(|e| types.enum_variants(&e)));
    let _ = types.struct_name_near("task_strct");
    if let Ok(ids) = types.type_ids() {
        for id in ids.into_iter().take(3000) {
            let _ = types.type_name(id);
            if let Ok(Some(agg)) = types.resolve(id).map(|t| t.as_aggregate().cloned()) {
                let _ = types.fields(&agg);
            }
        }
    }
}

/// A deterministic pseudo-random sequence (xorshift).
fn randoms(mut state: u64) -> impl Iterator<Item = u64> {
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    })
}

#[test]
fn whole_file_truncations() {
    let data = fixture();
    let lengths = (0..64).chain((1..40).map(|i| i * data.len() / 40));
    for len in lengths {
        exercise(data[..len].to_vec());
    }
}

#[test]
fn type_section_cut_inside_records() {
    let data = fixture();
    let cuts = randoms(7).take(40).map(|r| (r % 200_000) as usize);
    for cut in cuts.chain([0, 1, 11, 12, 13, 3_000_000]) {
        exercise(cut_types(&data, cut));
    }
}

#[test]
fn overwritten_bytes() {
    let data = fixture();
    let mut random = randoms(42);
    for _ in 0..40 {
        let mut bytes = data.clone();
        for _ in 0..8 {
            let at = 24 + (random.next().unwrap() % 60_000) as usize;
            bytes[at] = random.next().unwrap() as u8;
        }
        exercise(bytes);
    }
}
