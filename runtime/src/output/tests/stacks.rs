//! `kstack`/`ustack` keys and values, and stacks and user symbols in printf, compared
//! with bpftrace's output. The stack map and symbol tables are [`FakeSymbols`] holding
//! the frames bpftrace printed.

use ebpfc_stdlib::meta::{MapKind, StackMode, Ty};

use super::*;

/// Kernel functions bpftrace printed in the captures, at made-up addresses.
const KERNEL: [(u64, &str); 8] = [
    (0xffffffff81100000, "perf_syscall_enter"),
    (0xffffffff81200000, "syscall_trace_enter"),
    (0xffffffff81300000, "do_syscall_64"),
    (0xffffffff81400000, "entry_SYSCALL_64_after_hwframe"),
    (0xffffffff81500000, "pv_native_safe_halt"),
    (0xffffffff81600000, "default_idle"),
    (0xffffffff81700000, "__pi_memcpy"),
    (0xffffffff81800000, "vsnprintf"),
];

/// More kernel functions of the second capture.
const KERNEL_MORE: [(u64, &str); 3] = [
    (0xffffffff81900000, "seq_printf"),
    (0xffffffff81a00000, "seq_read_iter"),
    (0xffffffff81b00000, "seq_read"),
];

/// The address `offset` bytes into the kernel function `name`.
fn k(name: &str, offset: u64) -> u64 {
    KERNEL
        .iter()
        .chain(&KERNEL_MORE)
        .find(|(_, n)| *n == name)
        .map(|(addr, _)| addr + offset)
        .expect("a known kernel function")
}

fn symbols() -> FakeSymbols {
    FakeSymbols {
        kernel: KERNEL.iter().chain(&KERNEL_MORE).copied().collect(),
        ..Default::default()
    }
}

/// A stack value: the id, then the pid.
fn stack(id: i64, pid: u64) -> Vec<u8> {
    [id.to_le_bytes(), pid.to_le_bytes()].concat()
}

fn kstack(frames: u32) -> Ty {
    Ty::Stack {
        user: false,
        frames,
        mode: StackMode::Bpftrace,
    }
}

fn ustack(frames: u32) -> Ty {
    Ty::Stack {
        user: true,
        frames,
        mode: StackMode::Bpftrace,
    }
}

/// `key` followed by a u64 of 5, as `@k[kstack(2), 5]` keys are laid out.
fn with_five(key: Vec<u8>) -> Vec<u8> {
    [key, i(5)].concat()
}

/// `tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @s = kstack(3);
/// @k[kstack(2), 5] = count(); @c[kstack(2)] = count(); @t = (1, kstack(2));
/// @e = kstack; @u = ustack(2); }` with `-c 'setarch x86_64 -R python3 g.py'`, where
/// `g.py` calls `os.getppid()` once (the process has exited when the maps print, so the
/// user frames stay addresses).
#[test]
fn stacks_in_keys_values_and_tuples() {
    let mut syms = symbols();
    let frames = vec![
        k("perf_syscall_enter", 397),
        k("syscall_trace_enter", 384),
        k("do_syscall_64", 506),
        k("entry_SYSCALL_64_after_hwframe", 118),
        0,
        0,
    ];
    syms.stacks.insert(3, frames);
    syms.stacks
        .insert(9, vec![0x7ffff7d804f7, 0x94bc20, 0x1234]);
    let value_t = tuple(vec![i64_ty(), kstack(2)]);
    let scalar_stack = |name: &str, ty: Ty, value: Vec<u8>| {
        (plain(name, None, ty), vec![entry(scalar(), vec![value])])
    };
    let dumps = vec![
        (
            agg("@c", MapKind::Count, Some(kstack(2))),
            vec![entry(stack(3, 0), vec![i(1), i(0)])],
        ),
        scalar_stack("@e", kstack(127), stack(3, 0)),
        (
            agg("@k", MapKind::Count, Some(tuple(vec![kstack(2), i64_ty()]))),
            vec![entry(with_five(stack(3, 0)), vec![i(0), i(1)])],
        ),
        scalar_stack("@s", kstack(3), stack(3, 0)),
        scalar_stack("@t", value_t, [i(1), stack(3, 0)].concat()),
        scalar_stack("@u", ustack(2), stack(9, 4242)),
    ];
    check_with(&dumps, captured!("stack"), &syms);
}

/// `profile:hz:99 /cpu == 0/ { @s = kstack(3); @k[kstack(2), 5] = count();
/// @u = ustack; @sy = ksym(reg("ip")); ...; exit(); }` (its `@ku[kstack(perf, 2)]` map,
/// a stack mode ebpfc has no type for, is left out of the capture). Samples taken in user
/// mode have no kernel stack (a negative id), printed as nothing; counts tie in the hash
/// order bpftrace read them, here the order of the stack ids.
#[test]
fn missing_stacks_and_ties() {
    let mut syms = symbols();
    let pairs = [
        (1, ("pv_native_safe_halt", 11), ("default_idle", 5)),
        (2, ("__pi_memcpy", 10), ("vsnprintf", 1221)),
        (3, ("vsnprintf", 184), ("seq_printf", 161)),
        (4, ("seq_read_iter", 677), ("seq_read", 251)),
    ];
    for (id, (a, ao), (b, bo)) in pairs {
        syms.stacks
            .insert(id, vec![k(a, ao), k(b, bo), k("do_syscall_64", 1)]);
    }
    let user_frames = vec![0x7f65c222e1b0, 0xf, 0x646e655f6f695f];
    syms.stacks.insert(7, user_frames);
    let mut counted: Vec<RawEntry> = (1..=4)
        .map(|id| entry(with_five(stack(id, 0)), vec![i(1), i(0)]))
        .collect();
    counted.push(entry(with_five(stack(-14, 0)), vec![i(2), i(1)]));
    counted.reverse();
    let scalar = |name: &str, ty: Ty, value: Vec<u8>| {
        (
            plain(name, None, ty),
            vec![entry(super::scalar(), vec![value])],
        )
    };
    let dumps = vec![
        (
            agg("@k", MapKind::Count, Some(tuple(vec![kstack(2), i64_ty()]))),
            counted,
        ),
        scalar("@s", kstack(3), stack(-14, 0)),
        scalar("@sy", Ty::Sym { user: false }, stack(0x7f65c222e1b0, 0)),
        scalar("@u", ustack(127), stack(7, 4242)),
    ];
    let text = include_str!("bpftrace/stack2.text");
    assert_eq!(render(OutputFormat::Text, &dumps, &syms), text);
}

/// `tracepoint:syscalls:sys_enter_clock_nanosleep /comm == "sleep"/ {
/// printf("%s", ustack(perf, 4)); @[kstack(perf, 2)] = count(); ... }` printed perf-style
/// frames: a tab, the hex address, the symbol, and the module of user frames (or
/// `[unknown]`); `raw` frames are bare hex addresses.
#[test]
fn perf_and_raw_stack_modes() {
    let pid = 4242;
    let mut syms = symbols();
    syms.stacks.insert(5, vec![0x7fbecc877503, 0x94bc20]);
    syms.user
        .insert(pid, [(0x7fbecc8774e0, (64, "clock_nanosleep"))].into());
    let perf = |user| Ty::Stack {
        user,
        frames: 4,
        mode: StackMode::Perf,
    };
    let args = [(perf(true), stack(5, u64::from(pid)))];
    assert_eq!(
        printf_text("%s", &args, &syms),
        "\n\t7fbecc877503 clock_nanosleep+35 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n\
         \t94bc20 0x94bc20 ([unknown])\n"
    );
    syms.stacks.insert(
        3,
        vec![k("perf_syscall_enter", 397), k("syscall_trace_enter", 384)],
    );
    let dumps = vec![(
        agg("@", MapKind::Count, Some(perf(false))),
        vec![entry(stack(3, 0), vec![i(1), i(0)])],
    )];
    assert_eq!(
        render(OutputFormat::Text, &dumps, &syms),
        "\n\n@[\n\tffffffff8110018d perf_syscall_enter+397\n\
         \tffffffff81200180 syscall_trace_enter+384\n]: 1\n"
    );
    let raw = Ty::Stack {
        user: false,
        frames: 1,
        mode: StackMode::Raw,
    };
    assert_eq!(
        printf_text("[%s]", &[(raw, stack(3, 0))], &syms),
        "[\nffffffff8110018d\n]"
    );
}

/// A stack id the stack map does not have prints as nothing, like a negative one.
#[test]
fn unknown_stack_ids_print_nothing() {
    let dumps = vec![(
        plain("@s", None, kstack(127)),
        vec![entry(scalar(), vec![stack(99, 0)])],
    )];
    assert_eq!(render(OutputFormat::Text, &dumps, &symbols()), "\n\n@s: \n");
    let truncated = vec![(
        plain("@s", None, ustack(127)),
        vec![entry(scalar(), vec![vec![1, 0]])],
    )];
    assert_eq!(
        render(OutputFormat::Json, &truncated, &NoSymbols),
        "\n\n{\"type\": \"map\", \"data\": {\"@s\": \"\"}}\n"
    );
}

/// `printf("[%s]\n", kstack(2))` in the getppid tracepoint printed the frames indented
/// by eight spaces; a sample without a kernel stack printed `[]`.
#[test]
fn printf_of_kernel_stacks() {
    let mut syms = symbols();
    syms.stacks.insert(
        3,
        vec![k("perf_syscall_enter", 397), k("syscall_trace_enter", 384)],
    );
    assert_eq!(
        printf_text("[%s]\n", &[(kstack(2), stack(3, 0))], &syms),
        "[\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n]\n"
    );
    assert_eq!(
        printf_text("[%s]\n", &[(kstack(2), stack(-14, 0))], &syms),
        "[]\n"
    );
}

/// `uprobe:/lib/x86_64-linux-gnu/libc.so.6:getppid /pid == cpid/ {
/// printf("[%s]|%s\n", ustack(3), usym(reg("ip"))); }` while the process was alive
/// printed `[\n        getppid+0\n        0x94bc20\n]|getppid`.
#[test]
fn printf_of_user_stacks_and_symbols() {
    let pid = 4242;
    let mut syms = symbols();
    syms.stacks.insert(5, vec![0x7ffff7d804f0, 0x94bc20]);
    syms.user
        .insert(pid, [(0x7ffff7d804f0, (8, "getppid"))].into());
    let args = [
        (ustack(3), stack(5, u64::from(pid))),
        (
            Ty::Sym { user: true },
            stack(0x7ffff7d804f0, u64::from(pid)),
        ),
    ];
    assert_eq!(
        printf_text("[%s]|%s\n", &args, &syms),
        "[\n        getppid+0\n        0x94bc20\n]|getppid\n"
    );
    // Another process's addresses do not resolve.
    let other = [(Ty::Sym { user: true }, stack(0x7ffff7d804f0, 1))];
    assert_eq!(printf_text("%s\n", &other, &syms), "0x7ffff7d804f0\n");
}
