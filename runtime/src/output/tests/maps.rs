//! Whole-map renderings compared with bpftrace's captured output.

use ebpfc_stdlib::meta::MapKind::{Avg, Count, Hist, Max, Min, Stats, Sum};

use super::*;

/// `BEGIN { @c = count(); @s = sum(5); @s = sum(7); @mn = min(3); @mx = max(9);
/// @a = avg(3); @a = avg(4); exit(); }`
#[test]
fn aggregations_combine_cpus() {
    let dumps = vec![
        (
            agg("@c", Count, None),
            vec![entry(scalar(), vec![i(1), i(0)])],
        ),
        (
            agg("@s", Sum, None),
            vec![entry(scalar(), vec![i(5), i(7)])],
        ),
        // The CPU whose "is set" flag is 0 must not contribute.
        (
            agg("@mn", Min, None),
            vec![entry(scalar(), vec![pair(3, 1), pair(0, 0)])],
        ),
        (
            agg("@mx", Max, None),
            vec![entry(scalar(), vec![pair(100, 0), pair(9, 1)])],
        ),
        (
            agg("@a", Avg, None),
            vec![entry(scalar(), vec![pair(3, 1), pair(4, 1)])],
        ),
    ];
    check(&dumps, captured!("agg"));
}

/// `BEGIN { @lat = hist(-1); @lat = hist(2); @lat = hist(3); @lat = hist(7);
/// @lat = hist(20); @lat = hist(5000); exit(); }`
#[test]
fn hist_with_negative_values() {
    let counts = [(0, 1, 0), (3, 1, 1), (4, 0, 1), (6, 1, 0), (14, 0, 1)];
    let dumps = vec![(agg("@lat", Hist { bits: 0 }, None), buckets(&[], &counts))];
    check(&dumps, captured!("hist"));
}

/// `BEGIN { @h = hist(1); @h = hist(2) x2; @h = hist(4) x3; @h = hist(8) x13; exit(); }`
#[test]
fn hist_bar_widths() {
    let counts = [(2, 1, 0), (3, 1, 1), (4, 2, 1), (5, 6, 7)];
    let dumps = vec![(agg("@h", Hist { bits: 0 }, None), buckets(&[], &counts))];
    check(&dumps, captured!("bars"));
}

/// `BEGIN { @h = hist(1); ... }` with buckets 33, 34, 42, 52, 62 and 64 then written
/// into the map from outside (one count per CPU, two CPUs).
#[test]
fn hist_labels_up_to_the_last_bucket() {
    let counts = [
        (2, 1, 0),
        (33, 1, 1),
        (34, 1, 1),
        (42, 1, 1),
        (52, 2, 2),
        (62, 3, 3),
        (64, 4, 4),
    ];
    let dumps = vec![(agg("@h", Hist { bits: 0 }, None), buckets(&[], &counts))];
    check(&dumps, captured!("big"));
}

/// `BEGIN { @l = lhist(5, 0, 100, 10); @l = lhist(55, 0, 100, 10);
/// @l = lhist(150, 0, 100, 10); @u = lhist(15, 10, 100, 10); @u = lhist(5, 10, 100, 10);
/// exit(); }`
#[test]
fn lhist_open_ended_buckets() {
    let dumps = vec![
        (
            agg("@l", lhist(0, 100, 10), None),
            buckets(&[], &[(1, 1, 0), (6, 0, 1), (11, 1, 0)]),
        ),
        (
            agg("@u", lhist(10, 100, 10), None),
            buckets(&[], &[(0, 1, 0), (1, 0, 1)]),
        ),
    ];
    check(&dumps, captured!("lhist"));
}

/// `BEGIN { @h=hist(3145728); @h=hist(1099511627776);
/// @n = lhist(2097152, 0, 4194304, 1048576); @n = lhist(5242880, 0, 4194304, 1048576);
/// @q = lhist(1000, 0, 2048, 1024); @q = lhist(3000, 0, 2048, 1024);
/// @z = lhist(1536, 512, 2560, 512); @g = lhist(1073741824, 0, 1610612736, 536870912);
/// @g = lhist(0, 0, 1610612736, 536870912); @m = lhist(2000, 1000, 5000, 1000);
/// @m = lhist(3500, 1000, 5000, 1000); exit(); }`
///
/// bpftrace 0.17's log2 stops at bucket 33, where it puts 2^40.
#[test]
fn k_m_g_labels() {
    let one = |b: i64| (b, 1, 0);
    let dumps = vec![
        (
            agg("@h", Hist { bits: 0 }, None),
            buckets(&[], &[one(23), one(33)]),
        ),
        (
            agg("@n", lhist(0, 4194304, 1048576), None),
            buckets(&[], &[one(3), one(5)]),
        ),
        (
            agg("@q", lhist(0, 2048, 1024), None),
            buckets(&[], &[one(1), one(3)]),
        ),
        (
            agg("@z", lhist(512, 2560, 512), None),
            buckets(&[], &[one(3)]),
        ),
        (
            agg("@g", lhist(0, 1610612736, 536870912), None),
            buckets(&[], &[one(1), one(3)]),
        ),
        (
            agg("@m", lhist(1000, 5000, 1000), None),
            buckets(&[], &[one(2), one(3)]),
        ),
    ];
    check(&dumps, captured!("labels"));
}

/// `BEGIN { @m["b"] = 2; @m["a"] = 3; @t[1, "x"] = 5; @t[2, "y"] = 1; @k[7] = count();
/// exit(); }`
#[test]
fn keyed_and_tuple_keyed_maps() {
    let tk = tuple(vec![i64_ty(), str64()]);
    let dumps = vec![
        (
            plain("@m", Some(str64()), i64_ty()),
            vec![entry(s("b", 64), vec![i(2)]), entry(s("a", 64), vec![i(3)])],
        ),
        (
            plain("@t", Some(tk), i64_ty()),
            vec![
                entry([i(1), s("x", 64)].concat(), vec![i(5)]),
                entry([i(2), s("y", 64)].concat(), vec![i(1)]),
            ],
        ),
        (
            agg("@k", Count, Some(i64_ty())),
            vec![entry(i(7), vec![i(0), i(1)])],
        ),
    ];
    check(&dumps, captured!("keyed"));
}

/// `BEGIN { @s = stats(2); @s = stats(4); @x[1] = hist(3); @x[2] = hist(100); @e = 5;
/// exit(); }`
#[test]
fn stats_keyed_hist_and_scalar_value() {
    let mut x = buckets(&i(1), &[(3, 1, 0)]);
    x.extend(buckets(&i(2), &[(8, 0, 1)]));
    let dumps = vec![
        (
            agg("@s", Stats, None),
            vec![entry(scalar(), vec![pair(2, 1), pair(4, 1)])],
        ),
        (agg("@x", Hist { bits: 0 }, Some(i64_ty())), x),
        (
            plain("@e", None, i64_ty()),
            vec![entry(scalar(), vec![i(5)])],
        ),
    ];
    check(&dumps, captured!("stats"));
}

/// `BEGIN { @a = avg(-3); @a = avg(-4); @st = stats(-3); @st=stats(-4); @mn = min(-5);
/// @sm = sum(-9); @ = count(); @str["k"] = "hello"; @str["a"] = "zzz";
/// @tup = (1, "a\"b"); @tk[(int8)-1] = 3; @tk[(int8)2] = 1; @neg[-1] = -5;
/// @neg[-2] = 7; @u = (uint64)-1; exit(); }`
#[test]
fn negative_values_strings_and_tuples() {
    let one = |v: Vec<u8>| vec![entry(scalar(), vec![v])];
    let sv = |k: &str, v: &str| entry(s(k, 64), vec![s(v, 64)]);
    let tup = tuple(vec![i64_ty(), str64()]);
    let dumps = vec![
        (
            agg("@a", Avg, None),
            vec![entry(scalar(), vec![pair(-3, 1), pair(-4, 1)])],
        ),
        (
            agg("@st", Stats, None),
            vec![entry(scalar(), vec![pair(-7, 2), pair(0, 0)])],
        ),
        (
            agg("@mn", Min, None),
            vec![entry(scalar(), vec![pair(0, 0), pair(-5, 1)])],
        ),
        (
            agg("@sm", Sum, None),
            vec![entry(scalar(), vec![i(-4), i(-5)])],
        ),
        (
            agg("@", Count, None),
            vec![entry(scalar(), vec![i(1), i(0)])],
        ),
        (
            plain("@str", Some(str64()), str64()),
            vec![sv("k", "hello"), sv("a", "zzz")],
        ),
        (
            plain("@tup", None, tup),
            one([i(1), s("a\"b", 64)].concat()),
        ),
        (
            plain("@tk", Some(int(1, true)), i64_ty()),
            vec![entry(le(-1, 1), vec![i(3)]), entry(le(2, 1), vec![i(1)])],
        ),
        (
            plain("@neg", Some(i64_ty()), i64_ty()),
            vec![entry(i(-1), vec![i(-5)]), entry(i(-2), vec![i(7)])],
        ),
        (plain("@u", None, int(8, false)), one(i(-1))),
    ];
    check(&dumps, captured!("neg"));
}

/// `BEGIN { @a[(uint8)200] = 1; @b[(int8)-1] = 2; @c[(uint32)4000000000] = 3;
/// @d[(uint64)-1] = 4; @e[(int16)-300, "x\"y"] = 5; @v = (int8)-3; @w = (uint16)65535;
/// @t2 = ((int8)-1, (uint8)255, "s"); @sv["a\\b"] = "x\ty"; exit(); }`
#[test]
fn integer_keys_by_size_and_sign() {
    let kv = |k: Vec<u8>, v: i64| vec![entry(k, vec![i(v)])];
    let one = |v: Vec<u8>| vec![entry(scalar(), vec![v])];
    let ek = tuple(vec![int(2, true), str64()]);
    let t2 = tuple(vec![int(1, true), int(1, false), str64()]);
    let dumps = vec![
        (
            plain("@a", Some(int(1, false)), i64_ty()),
            kv(le(200, 1), 1),
        ),
        (plain("@b", Some(int(1, true)), i64_ty()), kv(le(-1, 1), 2)),
        (
            plain("@c", Some(int(4, false)), i64_ty()),
            kv(le(4_000_000_000, 4), 3),
        ),
        (plain("@d", Some(int(8, false)), i64_ty()), kv(i(-1), 4)),
        (
            plain("@e", Some(ek), i64_ty()),
            kv([le(-300, 2), s("x\"y", 64)].concat(), 5),
        ),
        (plain("@v", None, int(1, true)), one(le(-3, 1))),
        (plain("@w", None, int(2, false)), one(le(65535, 2))),
        (
            plain("@t2", None, t2),
            one([le(-1, 1), le(255, 1), s("s", 64)].concat()),
        ),
        (
            plain("@sv", Some(str64()), str64()),
            vec![entry(s("a\\b", 64), vec![s("x\ty", 64)])],
        ),
    ];
    check(&dumps, captured!("keyints"));
}

/// `BEGIN { @sk[-1] = "neg"; @sk[5] = "five"; @sk[0] = "zero"; @tk[2, "b"] = "q";
/// @tk[1, "z"] = "r"; @tk[1, "a"] = "s"; @s8[(int8)-1] = "a"; @s8[(int8)1] = "b";
/// @av[1] = avg(5); @av[2] = avg(1); @av[3]=avg(3); @st[1] = stats(1) x3;
/// @st[2] = stats(10); @h[1] = hist(1) x2; @h[2] = hist(5); @c[1] = count();
/// @c[2] = count() x2; @c[3] = count() x3; exit(); }`
#[test]
fn entry_order() {
    let sv = |k: Vec<u8>, v: &str| entry(k, vec![s(v, 64)]);
    let cpu0 = |k: i64, v: Vec<u8>| entry(i(k), vec![v, vec![0; 16]]);
    let tk = tuple(vec![i64_ty(), str64()]);
    let mut h = buckets(&i(1), &[(2, 1, 1)]);
    h.extend(buckets(&i(2), &[(4, 1, 0)]));
    let dumps = vec![
        (
            plain("@sk", Some(i64_ty()), str64()),
            vec![sv(i(-1), "neg"), sv(i(5), "five"), sv(i(0), "zero")],
        ),
        (
            plain("@tk", Some(tk), str64()),
            vec![
                sv([i(2), s("b", 64)].concat(), "q"),
                sv([i(1), s("z", 64)].concat(), "r"),
                sv([i(1), s("a", 64)].concat(), "s"),
            ],
        ),
        (
            plain("@s8", Some(int(1, true)), str64()),
            vec![sv(le(-1, 1), "a"), sv(le(1, 1), "b")],
        ),
        (
            agg("@av", Avg, Some(i64_ty())),
            vec![
                cpu0(1, pair(5, 1)),
                cpu0(2, pair(1, 1)),
                cpu0(3, pair(3, 1)),
            ],
        ),
        (
            agg("@st", Stats, Some(i64_ty())),
            vec![cpu0(1, pair(3, 3)), cpu0(2, pair(10, 1))],
        ),
        (agg("@h", Hist { bits: 0 }, Some(i64_ty())), h),
        (
            agg("@c", Count, Some(i64_ty())),
            vec![
                entry(i(3), vec![i(1), i(2)]),
                entry(i(1), vec![i(1), i(0)]),
                entry(i(2), vec![i(1), i(1)]),
            ],
        ),
    ];
    check(&dumps, captured!("order"));
}

/// `BEGIN { if (nsecs == 0) { @x = 1; @h = hist(1); @s = stats(1); @a = avg(1);
/// @l = lhist(1,0,10,1); @c = count(); @m[1] = 2; } @z = 1; exit(); }`
///
/// bpftrace 0.17 creates the scalar count entry (value 0) even though it never counts.
#[test]
fn empty_maps() {
    let dumps = vec![
        (plain("@x", None, i64_ty()), vec![]),
        (agg("@h", Hist { bits: 0 }, None), vec![]),
        (agg("@s", Stats, None), vec![]),
        (agg("@a", Avg, None), vec![]),
        (agg("@l", lhist(0, 10, 1), None), vec![]),
        (
            agg("@c", Count, None),
            vec![entry(scalar(), vec![i(0), i(0)])],
        ),
        (plain("@m", Some(i64_ty()), i64_ty()), vec![]),
        (
            plain("@z", None, i64_ty()),
            vec![entry(scalar(), vec![i(1)])],
        ),
    ];
    check(&dumps, captured!("empty"));
}
