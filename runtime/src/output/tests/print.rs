//! `print(@m, top, div)`, `time()` and lost-event reports compared with bpftrace's
//! captured output. Each capture is a whole program's stdout: its `print` calls, then
//! the exit dump of every map (unchanged since it was printed).

use ebpfc_stdlib::meta::MapKind::{Avg, Count, Hist, Min, Stats};

use super::*;
use crate::output::{render_lost_events, render_map, render_time, NoSymbols};

/// A `print(@m, top, div)` call: the map, `top` and `div`.
type Print<'a> = (&'a Dump, u64, u64);

/// The output of `print` calls followed by the exit dump of `maps`.
fn program(format: OutputFormat, prints: &[Print<'_>], maps: &[Dump]) -> String {
    let mut out = String::new();
    for ((info, entries), top, div) in prints {
        let dump = MapDump {
            info,
            entries: entries.clone(),
        };
        out.push_str(&render_map(format, &dump, *top, *div, &NoSymbols));
    }
    out + &render(format, maps, &NoSymbols)
}

fn check_program(prints: &[Print<'_>], maps: &[Dump], (text, json): (&str, &str)) {
    assert_eq!(program(OutputFormat::Text, prints, maps), text);
    assert_eq!(program(OutputFormat::Json, prints, maps), json);
}

fn int_key() -> Option<Ty> {
    Some(i64_ty())
}

/// One per-CPU entry per `(key, cpu0, cpu1)` of a count map.
fn counts(values: &[(i64, Vec<u8>, Vec<u8>)]) -> Vec<RawEntry> {
    values
        .iter()
        .map(|(k, c0, c1)| entry(i(*k), vec![c0.clone(), c1.clone()]))
        .collect()
}

/// `BEGIN { @a[1] = 5; @a[2] = 7; print(@a); print(@a, 1); print(@a, 0, 2);
/// @h = hist(3); print(@h); exit(); }`
#[test]
fn print_all_top_and_div() {
    let a = (
        plain("@a", int_key(), i64_ty()),
        vec![entry(i(1), vec![i(5)]), entry(i(2), vec![i(7)])],
    );
    let h = (
        agg("@h", Hist { bits: 0 }, None),
        buckets(&[], &[(3, 1, 0)]),
    );
    let prints = [(&a, 0, 0), (&a, 1, 0), (&a, 0, 2), (&h, 0, 0)];
    check_program(&prints, &[a.clone(), h.clone()], captured!("print1"));
}

/// `BEGIN { @e[1] = 1; delete(@e[1]); print(@e); @h[1] = hist(3); @h[1] = hist(3);
/// @h[1] = hist(100); @h[2] = hist(9); @h[3] = hist(1) (four times); print(@h, 2);
/// print(@h, 0, 2); @s[1] = stats(10); @s[2] = stats(20); @s[2] = stats(31);
/// print(@s, 1, 3); @v[1] = avg(10); @v[2] = avg(7); print(@v, 1, 3); @c[1] = count();
/// @c[2] = count() (twice); print(@c, 0, 2); @m = min(-7); print(@m, 0, 2); @n = -7;
/// print(@n, 0, 2); @l = lhist(5, 0, 10, 5) (three times); print(@l, 0, 2);
/// @str["a"] = "x"; print(@str, 0, 2); exit(); }`
///
/// Entries are ordered by undivided values; hist counts are divided but their bars are
/// not; `stats` ignores `top` and `div`; `lhist` and strings ignore `div`.
#[test]
fn top_and_div_for_every_kind() {
    let e = (plain("@e", int_key(), i64_ty()), vec![]);
    let mut h_raw = buckets(&i(1), &[(3, 1, 1), (8, 1, 0)]);
    h_raw.extend(buckets(&i(2), &[(5, 0, 1)]));
    h_raw.extend(buckets(&i(3), &[(2, 2, 2)]));
    let h = (agg("@h", Hist { bits: 0 }, int_key()), h_raw);
    let st = (
        agg("@s", Stats, int_key()),
        counts(&[(1, pair(10, 1), pair(0, 0)), (2, pair(20, 1), pair(31, 1))]),
    );
    let v = (
        agg("@v", Avg, int_key()),
        counts(&[(1, pair(10, 1), pair(0, 0)), (2, pair(0, 0), pair(7, 1))]),
    );
    let c = (
        agg("@c", Count, int_key()),
        counts(&[(1, i(1), i(0)), (2, i(1), i(1))]),
    );
    let m = (
        agg("@m", Min, None),
        vec![entry(scalar(), vec![pair(-7, 1), pair(0, 0)])],
    );
    let n = (
        plain("@n", None, i64_ty()),
        vec![entry(scalar(), vec![i(-7)])],
    );
    let l = (agg("@l", lhist(0, 10, 5), None), buckets(&[], &[(2, 2, 1)]));
    let text = (
        plain("@str", Some(str64()), str64()),
        vec![entry(s("a", 64), vec![s("x", 64)])],
    );
    let prints = [
        (&e, 0, 0),
        (&h, 2, 0),
        (&h, 0, 2),
        (&st, 1, 3),
        (&v, 1, 3),
        (&c, 0, 2),
        (&m, 0, 2),
        (&n, 0, 2),
        (&l, 0, 2),
        (&text, 0, 2),
    ];
    let maps = [&e, &h, &st, &v, &c, &m, &n, &l, &text].map(Clone::clone);
    check_program(&prints, &maps, captured!("print2"));
}

/// `BEGIN { @h = hist(3); @m = min(5); @a = avg(7); @s = stats(3); @c[1] = count();
/// @v = 9; @l = lhist(5, 0, 10, 5); zero(@h); zero(@m); zero(@a); zero(@s); zero(@c);
/// zero(@v); zero(@l); print(@h); print(@m); print(@a); print(@s); print(@c);
/// print(@v); print(@l); exit(); }`
///
/// The maps as the runtime's `zero` leaves them: every value 0, min/max "is set" flags
/// kept.
#[test]
fn zeroed_maps() {
    let zero2 = || vec![i(0), i(0)];
    let pairs0 = || vec![pair(0, 0), pair(0, 0)];
    let maps = [
        (
            agg("@h", Hist { bits: 0 }, None),
            buckets(&[], &[(3, 0, 0)]),
        ),
        (
            agg("@m", Min, None),
            vec![entry(scalar(), vec![pair(0, 1), pair(0, 0)])],
        ),
        (agg("@a", Avg, None), vec![entry(scalar(), pairs0())]),
        (agg("@s", Stats, None), vec![entry(scalar(), pairs0())]),
        (agg("@c", Count, int_key()), vec![entry(i(1), zero2())]),
        (
            plain("@v", None, i64_ty()),
            vec![entry(scalar(), vec![i(0)])],
        ),
        (agg("@l", lhist(0, 10, 5), None), buckets(&[], &[(2, 0, 0)])),
    ];
    let prints: Vec<Print<'_>> = maps.iter().map(|d| (d, 0, 0)).collect();
    check_program(&prints, &maps, captured!("print3"));
}

#[test]
fn div_zero_and_one_change_nothing() {
    let c = (
        agg("@c", Count, int_key()),
        counts(&[(1, i(3), i(4)), (2, i(1), i(0))]),
    );
    let dump = MapDump {
        info: &c.0,
        entries: c.1.clone(),
    };
    for div in [0, 1] {
        let text = render_map(OutputFormat::Text, &dump, 0, div, &NoSymbols);
        assert_eq!(text, "@c[2]: 1\n@c[1]: 7\n");
    }
    let all = render_map(OutputFormat::Text, &dump, 5, 0, &NoSymbols);
    assert_eq!(all, "@c[2]: 1\n@c[1]: 7\n");
}

/// `BEGIN { time("%H:%M:%S\n"); time("%Y-%m-%d"); time("a\tb\"%%\n"); exit(); }` at
/// 22:11:59 on 2026-11-24 printed `22:11:59\n`, `2026-11-24`, `a\tb"%\n` and, with
/// `-f json`, the lines checked here.
#[test]
fn time_messages() {
    assert_eq!(render_time(OutputFormat::Text, b"22:11:59\n"), "22:11:59\n");
    let json = [
        (
            &b"22:11:59\n"[..],
            r#"{"type": "time", "data": "22:11:59\n"}"#,
        ),
        (b"2026-11-24", r#"{"type": "time", "data": "2026-11-24"}"#),
        (b"a\tb\"%\n", r#"{"type": "time", "data": "a\tb\"%\n"}"#),
    ];
    for (formatted, line) in json {
        assert_eq!(
            render_time(OutputFormat::Json, formatted),
            format!("{line}\n")
        );
    }
}

/// bpftrace's `TextOutput::lost_events` and `JsonOutput::lost_events` wording.
#[test]
fn lost_event_reports() {
    assert_eq!(render_lost_events(OutputFormat::Text, 3), "Lost 3 events\n");
    assert_eq!(
        render_lost_events(OutputFormat::Json, 3),
        "{\"type\": \"lost_events\", \"data\": {\"events\": 3}}\n"
    );
}
