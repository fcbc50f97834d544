//! Kernel tests of `run` on hand-assembled objects: BEGIN/END test runs, attaching
//! perf events, tracepoints and raw tracepoints, the event stream, exit codes, map
//! dumps and the errors users see. They skip loudly when BPF is unavailable and fail
//! instead when `EBPFC_REQUIRE_KERNEL=1`.

mod common;

use common::*;
use ebpfc_runtime::output::OutputFormat;
use ebpfc_runtime::{RunOptions, RuntimeError};
use ebpfc_stdlib::meta::{Attach, MapInfo, MapKind, Metadata, Probe, Ty, VERSION};

const EVENTS: &str = "events";
const COUNT: &str = "m_count";
const HELLO: i32 = 0x1000;
const END: i32 = 0x1001;
const TICK: i32 = 0x1002;

fn maps() -> Vec<MapDef> {
    vec![
        MapDef {
            name: EVENTS,
            map_type: BPF_MAP_TYPE_RINGBUF,
            key_size: 0,
            value_size: 0,
            max_entries: 1 << 16,
        },
        MapDef {
            name: COUNT,
            map_type: BPF_MAP_TYPE_PERCPU_HASH,
            key_size: 8,
            value_size: 8,
            max_entries: 16,
        },
    ]
}

fn metadata(probes: Vec<Probe>) -> Metadata {
    Metadata {
        version: VERSION,
        probes,
        maps: vec![MapInfo {
            name: "@count".into(),
            elf_name: COUNT.into(),
            kind: MapKind::Count,
            key: None,
            key_size: 0,
            value: Ty::Int {
                size: 8,
                signed: true,
            },
            per_cpu: true,
        }],
        formats: vec![format("hello\n"), format("end\n"), format("tick\n")],
        ringbuf: Some(EVENTS.into()),
        ..Default::default()
    }
}

/// BEGIN prints hello (and exits with `begin_exit` if given), END prints end, and a 10ms
/// interval prints tick then exits with 4.
fn programs(begin_exit: Option<i32>) -> Vec<Prog> {
    let mut begin = vec![update_u64(COUNT, 0, 7), emit_event(EVENTS, &[HELLO])];
    if let Some(code) = begin_exit {
        begin.push(emit_event(EVENTS, &[0, code]));
    }
    begin.push(ret0());
    vec![
        prog("ebpfc_begin", "raw_tp/ebpfc_begin", begin),
        prog(
            "ebpfc_end",
            "raw_tp/ebpfc_end",
            vec![emit_event(EVENTS, &[END]), ret0()],
        ),
        prog(
            "ebpfc_tick",
            "perf_event",
            vec![
                emit_event(EVENTS, &[TICK]),
                emit_event(EVENTS, &[0, 4]),
                ret0(),
            ],
        ),
    ]
}

fn standard_probes() -> Vec<Probe> {
    vec![
        probe("ebpfc_begin", "BEGIN", Attach::Begin),
        probe("ebpfc_end", "END", Attach::End),
        probe(
            "ebpfc_tick",
            "interval:ms:10",
            Attach::Interval {
                period_ns: 10_000_000,
            },
        ),
    ]
}

#[test]
fn exit_in_begin_skips_attaching_but_runs_end_and_prints_maps() {
    if !kernel_available("exit_in_begin_skips_attaching_but_runs_end_and_prints_maps") {
        return;
    }
    let elf = build_object(&maps(), &programs(Some(3)), &metadata(standard_probes()));
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 3, "output: {out:?}");
    assert!(out.starts_with("hello\nend\n"), "{out:?}");
    assert!(!out.contains("tick"), "{out:?}");
    assert!(out.contains("@count: 7"), "{out:?}");
}

#[test]
fn interval_tracepoint_and_raw_tracepoint_probes_attach_and_fire() {
    if !kernel_available("interval_tracepoint_and_raw_tracepoint_probes_attach_and_fire") {
        return;
    }
    let mut progs = programs(None);
    progs.push(prog(
        "ebpfc_tp",
        "tracepoint/sched/sched_switch",
        vec![ret0()],
    ));
    progs.push(prog("ebpfc_raw", "raw_tp/sched_switch", vec![ret0()]));
    let mut probes = standard_probes();
    let tracepoint = Attach::Tracepoint {
        category: "sched".into(),
        name: "sched_switch".into(),
    };
    probes.push(probe(
        "ebpfc_tp",
        "tracepoint:sched:sched_switch",
        tracepoint,
    ));
    let raw = Attach::RawTracepoint {
        name: "sched_switch".into(),
    };
    probes.push(probe("ebpfc_raw", "rawtracepoint:sched_switch", raw));
    let elf = build_object(&maps(), &progs, &metadata(probes));
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 4, "output: {out:?}");
    assert!(out.starts_with("hello\ntick\nend\n"), "{out:?}");
    assert_eq!(
        out.matches("tick").count(),
        1,
        "events after exit are dropped: {out:?}"
    );
}

#[test]
fn the_attaching_line_goes_to_stderr_in_text_and_first_in_json() {
    if !kernel_available("the_attaching_line_goes_to_stderr_in_text_and_first_in_json") {
        return;
    }
    let elf = build_object(&maps(), &programs(Some(0)), &metadata(standard_probes()));
    let (result, out) = run_to_string(&elf, &RunOptions::default());
    assert_eq!(result.unwrap(), 0);
    assert!(
        out.starts_with("hello\nend\n") && !out.contains("Attaching"),
        "{out:?}"
    );
    let json = RunOptions {
        format: OutputFormat::Json,
        ..Default::default()
    };
    let (result, out) = run_to_string(&elf, &json);
    assert_eq!(result.unwrap(), 0);
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        r#"{"type": "attached_probes", "data": {"probes": 3}}"#
    );
    assert!(out.contains(r#""type": "printf""#), "{out:?}");
}

#[test]
fn dry_run_attaches_without_running_begin() {
    if !kernel_available("dry_run_attaches_without_running_begin") {
        return;
    }
    let elf = build_object(&maps(), &programs(Some(3)), &metadata(standard_probes()));
    let opts = RunOptions {
        dry_run: true,
        ..quiet()
    };
    let (result, out) = run_to_string(&elf, &opts);
    assert_eq!(result.unwrap(), 0);
    assert_eq!(out, "");
}

#[test]
fn a_missing_tracepoint_is_reported_with_its_probe() {
    if !kernel_available("a_missing_tracepoint_is_reported_with_its_probe") {
        return;
    }
    let mut progs = programs(None);
    progs.push(prog("ebpfc_tp", "tracepoint/nosuch/event", vec![ret0()]));
    let mut probes = standard_probes();
    let attach = Attach::Tracepoint {
        category: "nosuch".into(),
        name: "event".into(),
    };
    probes.push(probe("ebpfc_tp", "tracepoint:nosuch:event", attach));
    let elf = build_object(&maps(), &progs, &metadata(probes));
    let err = run_to_string(&elf, &quiet()).0.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RuntimeError::Attach { .. }), "{text}");
    assert!(text.contains("tracepoint:nosuch:event"), "{text}");
    assert!(
        text.contains("tracepoint nosuch:event does not exist"),
        "{text}"
    );
}

#[test]
fn a_verifier_rejection_names_the_probe_and_quotes_the_log() {
    if !kernel_available("a_verifier_rejection_names_the_probe_and_quotes_the_log") {
        return;
    }
    let progs = vec![prog(
        "ebpfc_begin",
        "raw_tp/ebpfc_begin",
        vec![vec![exit()]],
    )];
    let probes = vec![probe("ebpfc_begin", "BEGIN", Attach::Begin)];
    let elf = build_object(&maps(), &progs, &metadata(probes));
    let err = run_to_string(&elf, &quiet()).0.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RuntimeError::Verifier(_)), "{text}");
    assert!(
        text.contains("`ebpfc_begin`") && text.contains("BEGIN"),
        "{text}"
    );
    assert!(text.contains("R0 !read_ok"), "{text}");
}

#[test]
fn a_probe_naming_a_missing_program_is_a_metadata_error() {
    if !kernel_available("a_probe_naming_a_missing_program_is_a_metadata_error") {
        return;
    }
    let probes = vec![probe("ebpfc_nope", "BEGIN", Attach::Begin)];
    let elf = build_object(&maps(), &programs(None), &metadata(probes));
    let err = run_to_string(&elf, &quiet()).0.unwrap_err();
    assert!(matches!(err, RuntimeError::Metadata(_)), "{err}");
    assert!(err.to_string().contains("ebpfc_nope"), "{err}");
}

#[test]
fn a_program_in_the_wrong_section_is_reported() {
    if !kernel_available("a_program_in_the_wrong_section_is_reported") {
        return;
    }
    let probes = vec![probe("ebpfc_tick", "BEGIN", Attach::Begin)];
    let elf = build_object(&maps(), &programs(None), &metadata(probes));
    let err = run_to_string(&elf, &quiet()).0.unwrap_err();
    assert!(
        err.to_string().contains("not in a `raw_tp` section"),
        "{err}"
    );
}

/// The function a uprobe test probes in this very test binary.
#[no_mangle]
#[inline(never)]
pub extern "C" fn ebpfc_runtime_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_add(1)
}

#[test]
fn uprobes_attach_by_symbol_and_fire() {
    if !kernel_available("uprobes_attach_by_symbol_and_fire") {
        return;
    }
    let exe = std::env::current_exe().unwrap().display().to_string();
    let progs = vec![
        prog(
            "ebpfc_begin",
            "raw_tp/ebpfc_begin",
            vec![emit_event(EVENTS, &[HELLO]), ret0()],
        ),
        prog(
            "ebpfc_up",
            "uretprobe/target",
            vec![emit_event(EVENTS, &[0, 6]), ret0()],
        ),
    ];
    let symbol = Some("ebpfc_runtime_uprobe_target".to_string());
    let uretprobe = Attach::Uprobe {
        path: exe.clone(),
        symbol,
        offset: 0,
        ret: true,
    };
    let probes = vec![
        probe("ebpfc_begin", "BEGIN", Attach::Begin),
        probe(
            "ebpfc_up",
            &format!("uretprobe:{exe}:ebpfc_runtime_uprobe_target"),
            uretprobe,
        ),
    ];
    let elf = build_object(&maps(), &progs, &metadata(probes));
    std::thread::spawn(|| {
        for i in 0..500 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            ebpfc_runtime_uprobe_target(i);
        }
    });
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 6, "output: {out:?}");
    assert!(out.starts_with("hello\n"), "{out:?}");
}
