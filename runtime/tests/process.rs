//! Kernel tests of `-p PID` (uprobes scoped to one process, the run ending when it
//! exits) and of hardware perf events, on hand-assembled objects. They skip loudly when
//! BPF is unavailable and fail instead when `EBPFC_REQUIRE_KERNEL=1`.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use ebpfc_runtime::{RunOptions, RuntimeError};
use ebpfc_stdlib::meta::{Attach, Metadata, Probe, VERSION};

const EVENTS: &str = "events";
const HELLO: i32 = 0x1000;
const END: i32 = 0x1001;
const SYMBOL: &str = "ebpfc_runtime_pid_target";

/// The function the uprobe probes in this very test binary.
#[no_mangle]
#[inline(never)]
pub extern "C" fn ebpfc_runtime_pid_target(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_add(1)
}

fn metadata(probes: Vec<Probe>) -> Metadata {
    Metadata {
        version: VERSION,
        probes,
        formats: vec![format("hello\n"), format("end\n")],
        ringbuf: Some(EVENTS.into()),
        ..Default::default()
    }
}

/// BEGIN prints hello, END prints end, and a uretprobe on [`ebpfc_runtime_pid_target`]
/// exits with 6.
fn uprobe_object() -> Vec<u8> {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let progs = vec![
        prog(
            "ebpfc_begin",
            "raw_tp/ebpfc_begin",
            vec![emit_event(EVENTS, &[HELLO]), ret0()],
        ),
        prog(
            "ebpfc_end",
            "raw_tp/ebpfc_end",
            vec![emit_event(EVENTS, &[END]), ret0()],
        ),
        prog(
            "ebpfc_up",
            "uretprobe/target",
            vec![emit_event(EVENTS, &[0, 6]), ret0()],
        ),
    ];
    let uretprobe = Attach::Uprobe {
        path: exe.clone(),
        symbol: Some(SYMBOL.to_string()),
        offset: 0,
        ret: true,
    };
    let probes = vec![
        probe("ebpfc_begin", "BEGIN", Attach::Begin),
        probe("ebpfc_end", "END", Attach::End),
        probe("ebpfc_up", &format!("uretprobe:{exe}:{SYMBOL}"), uretprobe),
    ];
    build_object(&[ringbuf(EVENTS)], &progs, &metadata(probes))
}

/// Calls the probed function every 20 ms for about 10 s, in this process.
fn call_the_target_in_the_background() {
    std::thread::spawn(|| {
        for i in 0..500 {
            std::thread::sleep(Duration::from_millis(20));
            ebpfc_runtime_pid_target(i);
        }
    });
}

fn sleeper(seconds: &str) -> Child {
    Command::new("sleep").arg(seconds).spawn().unwrap()
}

fn with_pid(pid: u32) -> RunOptions {
    RunOptions {
        pid: Some(pid),
        ..quiet()
    }
}

#[test]
fn the_run_ends_when_the_process_exits_and_other_processes_do_not_fire() {
    if !kernel_available("the_run_ends_when_the_process_exits_and_other_processes_do_not_fire") {
        return;
    }
    call_the_target_in_the_background();
    let mut child = sleeper("1");
    let start = Instant::now();
    let (result, out) = run_to_string(&uprobe_object(), &with_pid(child.id()));
    child.wait().unwrap();
    assert_eq!(result.unwrap(), 0, "the uprobe fired outside -p: {out:?}");
    assert_eq!(out, "hello\nend\n\n\n");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn uprobes_fire_in_the_process() {
    if !kernel_available("uprobes_fire_in_the_process") {
        return;
    }
    call_the_target_in_the_background();
    let (result, out) = run_to_string(&uprobe_object(), &with_pid(std::process::id()));
    assert_eq!(result.unwrap(), 6, "{out:?}");
    assert_eq!(out, "hello\nend\n\n\n");
}

#[test]
fn a_missing_process_is_an_error_naming_it() {
    if !kernel_available("a_missing_process_is_an_error_naming_it") {
        return;
    }
    let pid = i32::MAX as u32;
    let err = run_to_string(&uprobe_object(), &with_pid(pid))
        .0
        .unwrap_err();
    assert!(matches!(err, RuntimeError::NoProcess { .. }), "{err}");
    assert!(err.to_string().contains(&pid.to_string()), "{err}");
}

#[test]
fn hardware_events_attach_or_say_there_is_no_pmu() {
    if !kernel_available("hardware_events_attach_or_say_there_is_no_pmu") {
        return;
    }
    let progs = vec![prog(
        "ebpfc_hw",
        "perf_event",
        vec![emit_event(EVENTS, &[0, 5]), ret0()],
    )];
    let attach = Attach::Hardware {
        event: "cycles".into(),
        config: 0,
        period: 100_000,
    };
    let probes = vec![probe("ebpfc_hw", "hardware:cycles:100000", attach)];
    let elf = build_object(&[ringbuf(EVENTS)], &progs, &metadata(probes));
    match run_to_string(&elf, &quiet()).0 {
        Ok(code) => assert_eq!(code, 5),
        Err(err) => {
            let text = err.to_string();
            assert!(matches!(err, RuntimeError::Attach { .. }), "{text}");
            assert!(
                text.contains("hardware event cycles is not available on this machine (no PMU)"),
                "{text}"
            );
        }
    }
}
