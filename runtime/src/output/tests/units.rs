//! Edge cases of decoding and ordering that bpftrace itself cannot produce.

use ebpfc_stdlib::meta::MapKind::{Count, Hist, Max, Min};

use super::*;
use crate::output::value::json_escape;

#[test]
fn min_and_max_never_set_are_absent() {
    let unset = vec![entry(scalar(), vec![pair(7, 0), pair(-7, 0)])];
    let dumps = vec![
        (agg("@mn", Min, None), unset.clone()),
        (agg("@mx", Max, None), unset),
    ];
    assert_eq!(render(OutputFormat::Text, &dumps, &NoSymbols), "\n\n\n\n");
    assert_eq!(render(OutputFormat::Json, &dumps, &NoSymbols), "\n\n");
}

#[test]
fn min_and_max_combine_only_set_cpus() {
    let values = vec![pair(-2, 1), pair(-9, 0), pair(4, 1)];
    let dumps = vec![
        (agg("@mn", Min, None), vec![entry(scalar(), values.clone())]),
        (agg("@mx", Max, None), vec![entry(scalar(), values)]),
    ];
    assert_eq!(
        render(OutputFormat::Text, &dumps, &NoSymbols),
        "\n\n@mn: -2\n@mx: 4\n"
    );
}

#[test]
fn equal_values_order_by_key_bytes() {
    let one = |k: i64| entry(i(k), vec![i(1), i(0)]);
    let dumps = vec![(
        agg("@c", Count, Some(i64_ty())),
        vec![one(2), one(256), one(1)],
    )];
    let text = "\n\n@c[256]: 1\n@c[1]: 1\n@c[2]: 1\n";
    assert_eq!(render(OutputFormat::Text, &dumps, &NoSymbols), text);
}

#[test]
fn hist_buckets_out_of_range_are_ignored() {
    let counts = [(2, 1, 0), (65, 5, 5), (-1, 5, 5)];
    let dumps = vec![(agg("@h", Hist { bits: 0 }, None), buckets(&[], &counts))];
    let text = "\n\n@h: \n[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n";
    assert_eq!(render(OutputFormat::Text, &dumps, &NoSymbols), text);
}

#[test]
fn hist_key_is_padded_to_eight_bytes() {
    let key = Some(int(4, false));
    let mut raw = buckets(&le(9, 4), &[(3, 1, 0)]);
    raw.extend(buckets(&le(9, 4), &[(4, 0, 1)]));
    let dumps = vec![(agg("@h", Hist { bits: 0 }, key), raw)];
    let json = "\n\n{\"type\": \"hist\", \"data\": {\"@h\": {\"9\": \
                [{\"min\": 2, \"max\": 3, \"count\": 1}, {\"min\": 4, \"max\": 7, \"count\": 1}]}}}\n";
    assert_eq!(render(OutputFormat::Json, &dumps, &NoSymbols), json);
}

#[test]
fn avg_of_nothing_is_zero() {
    let dumps = vec![(
        agg("@a", MapKind::Avg, None),
        vec![entry(scalar(), vec![pair(0, 0)])],
    )];
    assert_eq!(
        render(OutputFormat::Text, &dumps, &NoSymbols),
        "\n\n@a: 0\n\n"
    );
}

#[test]
fn short_buffers_read_as_zero() {
    let dumps = vec![(
        plain("@v", None, i64_ty()),
        vec![entry(vec![], vec![vec![5]])],
    )];
    assert_eq!(
        render(OutputFormat::Text, &dumps, &NoSymbols),
        "\n\n@v: 5\n"
    );
}

#[test]
fn json_escapes_control_and_high_bytes() {
    let mut out = String::new();
    json_escape(b"\x1f\x7f\x08\xff", &mut out);
    assert_eq!(out, "\\u001f\x7f\\u0008\\uffffffff");
}

#[test]
fn map_names_are_escaped_in_json() {
    let dumps = vec![(
        plain("@a\"b", None, i64_ty()),
        vec![entry(scalar(), vec![i(1)])],
    )];
    let json = "\n\n{\"type\": \"map\", \"data\": {\"@a\\\"b\": 1}}\n";
    assert_eq!(render(OutputFormat::Json, &dumps, &NoSymbols), json);
}
