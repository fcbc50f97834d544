//! C structs, unions and arrays copied from kernel memory, as map keys and values,
//! compared with bpftrace's output.

use ebpfc_stdlib::meta::{Member, Ty};

use super::*;

fn member(name: &str, offset: u32, ty: Ty) -> Member {
    Member {
        name: name.to_string(),
        offset,
        ty,
        bits: None,
    }
}

fn c_struct(size: u32, members: Vec<Member>) -> Ty {
    Ty::Struct { members, size }
}

fn u64_array(len: u32) -> Ty {
    Ty::Array {
        elem: Box::new(int(8, false)),
        len,
        stride: 8,
    }
}

/// `union rcu_special { struct { u8 blocked, need_qs, exp_hint, need_mb; } b; u32 s; }`.
fn rcu_special() -> Ty {
    let flags = ["blocked", "need_qs", "exp_hint", "need_mb"];
    let b = flags
        .iter()
        .zip(0..)
        .map(|(name, at)| member(name, at, int(1, false)));
    c_struct(
        4,
        vec![
            member("b", 0, c_struct(4, b.collect())),
            member("s", 0, int(4, false)),
        ],
    )
}

/// `struct sigpending { struct list_head list; sigset_t signal; }`: pointers are signed.
fn sigpending() -> Ty {
    let list = c_struct(
        16,
        vec![member("next", 0, i64_ty()), member("prev", 8, i64_ty())],
    );
    let signal = c_struct(8, vec![member("sig", 0, u64_array(1))]);
    c_struct(
        24,
        vec![member("list", 0, list), member("signal", 16, signal)],
    )
}

/// `struct new_utsname`: six `char[65]`.
fn utsname(texts: [&str; 6]) -> (Ty, Vec<u8>) {
    let names = [
        "sysname",
        "nodename",
        "release",
        "version",
        "machine",
        "domainname",
    ];
    let members = names
        .iter()
        .zip(0..)
        .map(|(name, i)| member(name, 65 * i, Ty::Str { size: 65 }));
    let bytes = texts.iter().flat_map(|t| s(t, 65)).collect();
    (c_struct(390, members.collect()), bytes)
}

/// `tracepoint:syscalls:sys_enter_getpid /comm == "capgetpid"/ {
/// @k[curtask->rcu_read_unlock_special] = 2; @r[curtask->signal->rlim[1]] = 1;
/// @c = curtask->cpus_mask; @x = curtask->pending; @n = curtask->nsproxy->uts_ns->name;
/// exit(); }` (the JSON run's list pointers, of another task, replaced by the text
/// run's).
#[test]
fn struct_maps() {
    let rlimit = c_struct(
        16,
        vec![
            member("rlim_cur", 0, int(8, false)),
            member("rlim_max", 8, int(8, false)),
        ],
    );
    let cpumask = c_struct(32, vec![member("bits", 0, u64_array(4))]);
    let list = -131_387_334_335_648i64;
    let (uts, uts_bytes) = utsname([
        "Linux",
        "vm",
        "6.18.44-fc-v669",
        "#1 SMP PREEMPT_DYNAMIC @0",
        "x86_64",
        "(none)",
    ]);
    let scalar_value = |name: &str, ty: Ty, value: Vec<u8>| {
        (plain(name, None, ty), vec![entry(scalar(), vec![value])])
    };
    let dumps = vec![
        scalar_value("@c", cpumask, [i(3), i(0), i(0), i(0)].concat()),
        (
            plain("@k", Some(rcu_special()), i64_ty()),
            vec![entry(vec![0; 4], vec![i(2)])],
        ),
        scalar_value("@n", uts, uts_bytes),
        (
            plain("@r", Some(rlimit), i64_ty()),
            vec![entry(vec![0xff; 16], vec![i(1)])],
        ),
        scalar_value("@x", sigpending(), [i(list), i(list), i(0)].concat()),
    ];
    check(&dumps, captured!("structs"));
}
