//! SIGINT stops a run cleanly: END still runs, maps are printed and the exit code is 0.
//! A separate test binary, because the signal goes to the whole process.

mod common;

use std::time::Duration;

use common::*;
use ebpfc_runtime::{run, RunOptions};
use ebpfc_stdlib::meta::{Attach, Format, Metadata, Probe, VERSION};

#[test]
fn sigint_stops_the_event_loop_and_runs_end() {
    if !kernel_available("sigint_stops_the_event_loop_and_runs_end") {
        return;
    }
    let maps = [MapDef {
        name: "events",
        map_type: BPF_MAP_TYPE_RINGBUF,
        key_size: 0,
        value_size: 0,
        max_entries: 1 << 16,
    }];
    let progs = [
        Prog {
            name: "ebpfc_begin",
            section: "raw_tp/ebpfc_begin".into(),
            code: [emit_event("events", &[0x1000]), ret0()].concat(),
        },
        Prog {
            name: "ebpfc_end",
            section: "raw_tp/ebpfc_end".into(),
            code: [emit_event("events", &[0x1001]), ret0()].concat(),
        },
    ];
    let format = |t: &str| Format {
        template: t.into(),
        args: vec![],
        system: false,
        stderr_prefix: None,
        value: false,
        cat: false,
    };
    let meta = Metadata {
        version: VERSION,
        probes: vec![
            Probe {
                program: "ebpfc_begin".into(),
                name: "BEGIN".into(),
                attach: Attach::Begin,
                lines: Vec::new(),
                loops: Vec::new(),
            },
            Probe {
                program: "ebpfc_end".into(),
                name: "END".into(),
                attach: Attach::End,
                lines: Vec::new(),
                loops: Vec::new(),
            },
        ],
        maps: vec![],
        formats: vec![format("hello\n"), format("end\n")],
        ringbuf: Some("events".into()),
        ..Default::default()
    };
    let elf = build_object(&maps, &progs, &meta);
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: sending a signal to this process has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    });
    let mut out = Vec::new();
    let code = run(
        &elf,
        &RunOptions {
            quiet: true,
            flush_each_event: false,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 0);
    assert!(out.starts_with("hello\nend\n"), "{out:?}");
}
