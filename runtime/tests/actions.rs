//! Kernel tests of the events that act on maps and time — print, clear, zero, time —
//! and of the lost-event report, on hand-assembled objects. They skip loudly when BPF
//! is unavailable and fail instead when `EBPFC_REQUIRE_KERNEL=1`.

mod common;

use common::*;
use ebpfc_runtime::output::OutputFormat;
use ebpfc_runtime::RunOptions;
use ebpfc_stdlib::meta::{
    Attach, MapInfo, MapKind, Metadata, Probe, Ty, EVENT_CLEAR, EVENT_PRINT, EVENT_TIME,
    EVENT_ZERO, VERSION,
};

const EVENTS: &str = "events";
const COUNT: &str = "m_count";
const LOST: &str = "lost";
const HELLO: i32 = 0x1000;

fn maps() -> Vec<MapDef> {
    vec![
        ringbuf(EVENTS),
        MapDef {
            name: COUNT,
            map_type: BPF_MAP_TYPE_PERCPU_HASH,
            key_size: 8,
            value_size: 8,
            max_entries: 16,
        },
        MapDef {
            name: LOST,
            map_type: BPF_MAP_TYPE_PERCPU_ARRAY,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
        },
    ]
}

/// `@count[k]` as a count map keyed by a u64.
fn count_map() -> MapInfo {
    MapInfo {
        name: "@count".into(),
        elf_name: COUNT.into(),
        kind: MapKind::Count,
        key: Some(Ty::Int {
            size: 8,
            signed: false,
        }),
        key_size: 8,
        value: Ty::Int {
            size: 8,
            signed: true,
        },
        per_cpu: true,
    }
}

fn metadata(probes: Vec<Probe>) -> Metadata {
    Metadata {
        version: VERSION,
        probes,
        maps: vec![count_map()],
        formats: vec![format("hello\n")],
        ringbuf: Some(EVENTS.into()),
        strings: vec!["%Y|\n".into()],
        lost_events: Some(LOST.into()),
        ..Default::default()
    }
}

/// An event record of `words` (the first is the event id).
fn event(words: &[u64]) -> Vec<Insn> {
    let words: Vec<i32> = words.iter().map(|&w| w as i32).collect();
    emit_event(EVENTS, &words)
}

fn exit_event() -> Vec<Insn> {
    emit_event(EVENTS, &[0, 0])
}

/// An object whose BEGIN runs `begin` then exits.
fn begin_only(begin: Vec<Vec<Insn>>) -> Vec<u8> {
    let mut code = begin;
    code.extend([exit_event(), ret0()]);
    let progs = vec![prog("ebpfc_begin", "raw_tp/ebpfc_begin", code)];
    let probes = vec![probe("ebpfc_begin", "BEGIN", Attach::Begin)];
    build_object(&maps(), &progs, &metadata(probes))
}

fn print(top: u64, div: u64) -> Vec<Insn> {
    event(&[EVENT_PRINT, 0, top, div])
}

#[test]
fn print_shows_the_map_when_the_event_arrives() {
    if !kernel_available("print_shows_the_map_when_the_event_arrives") {
        return;
    }
    let begin = vec![
        update_u64(COUNT, 1, 7),
        update_u64(COUNT, 2, 3),
        print(0, 0),
        emit_event(EVENTS, &[HELLO]),
        print(1, 2),
        ret0(),
    ];
    let progs = vec![
        prog("ebpfc_begin", "raw_tp/ebpfc_begin", begin),
        prog(
            "ebpfc_tick",
            "perf_event",
            vec![update_u64(COUNT, 3, 1), print(0, 0), exit_event(), ret0()],
        ),
    ];
    let probes = vec![
        probe("ebpfc_begin", "BEGIN", Attach::Begin),
        probe(
            "ebpfc_tick",
            "interval:ms:10",
            Attach::Interval {
                period_ns: 10_000_000,
            },
        ),
    ];
    let elf = build_object(&maps(), &progs, &metadata(probes));
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 0, "{out:?}");
    let begin = "@count[2]: 3\n@count[1]: 7\nhello\n@count[1]: 3\n";
    let tick = "@count[3]: 1\n@count[2]: 3\n@count[1]: 7\n";
    let dump = "\n\n@count[3]: 1\n@count[2]: 3\n@count[1]: 7\n";
    assert_eq!(out, format!("{begin}{tick}{dump}"));
}

#[test]
fn print_in_json_is_one_line_per_map() {
    if !kernel_available("print_in_json_is_one_line_per_map") {
        return;
    }
    let elf = begin_only(vec![update_u64(COUNT, 1, 7), print(0, 0)]);
    let opts = RunOptions {
        format: OutputFormat::Json,
        ..quiet()
    };
    let (result, out) = run_to_string(&elf, &opts);
    assert_eq!(result.unwrap(), 0);
    let line = r#"{"type": "map", "data": {"@count": {"1": 7}}}"#;
    assert_eq!(out, format!("{line}\n\n\n{line}\n"));
}

#[test]
fn clear_deletes_every_entry() {
    if !kernel_available("clear_deletes_every_entry") {
        return;
    }
    let elf = begin_only(vec![
        update_u64(COUNT, 1, 7),
        update_u64(COUNT, 2, 9),
        event(&[EVENT_CLEAR, 0]),
        print(0, 0),
    ]);
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 0);
    assert_eq!(out, "\n\n\n\n");
}

#[test]
fn zero_keeps_the_keys_with_zero_values() {
    if !kernel_available("zero_keeps_the_keys_with_zero_values") {
        return;
    }
    let elf = begin_only(vec![
        update_u64(COUNT, 1, 7),
        event(&[EVENT_ZERO, 0]),
        print(0, 0),
    ]);
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 0);
    assert_eq!(out, "@count[1]: 0\n\n\n@count[1]: 0\n");
}

#[test]
fn time_prints_the_local_time_with_its_format() {
    if !kernel_available("time_prints_the_local_time_with_its_format") {
        return;
    }
    let elf = begin_only(vec![event(&[EVENT_TIME, 0])]);
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 0);
    let (year, rest) = out.split_once("|\n").expect("the time line");
    assert!(
        year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
        "{out:?}"
    );
    assert_eq!(rest, "\n\n\n");
}

#[test]
fn lost_events_are_reported_before_the_maps() {
    if !kernel_available("lost_events_are_reported_before_the_maps") {
        return;
    }
    let elf = begin_only(vec![update_u64(LOST, 0, 5), update_u64(COUNT, 1, 2)]);
    let opts = RunOptions {
        format: OutputFormat::Json,
        ..quiet()
    };
    let (result, out) = run_to_string(&elf, &opts);
    assert_eq!(result.unwrap(), 0);
    let lost = r#"{"type": "lost_events", "data": {"events": 5}}"#;
    let map = r#"{"type": "map", "data": {"@count": {"1": 2}}}"#;
    assert_eq!(out, format!("{lost}\n\n\n{map}\n"));
    let (result, out) = run_to_string(&elf, &quiet());
    assert_eq!(result.unwrap(), 0);
    assert_eq!(out, "\n\n@count[1]: 2\n", "text reports go to stderr");
}

#[test]
fn no_lost_events_no_report() {
    if !kernel_available("no_lost_events_no_report") {
        return;
    }
    let elf = begin_only(vec![update_u64(COUNT, 1, 2)]);
    let opts = RunOptions {
        format: OutputFormat::Json,
        ..quiet()
    };
    let (result, out) = run_to_string(&elf, &opts);
    assert_eq!(result.unwrap(), 0);
    assert_eq!(
        out,
        "\n\n{\"type\": \"map\", \"data\": {\"@count\": {\"1\": 2}}}\n"
    );
}
