//! Hist and lhist buckets: how many there are, their labels, the text bar chart and the
//! JSON bucket arrays. Bucket bounds use 32-bit `int` arithmetic (wrapping, shift counts
//! taken modulo 32) and bars use `f32`, as bpftrace 0.17 computes them; `hist(v, bits)`
//! with `bits` > 0 (which 0.17 lacks) labels its buckets as current bpftrace does.

use std::fmt::Write as _;

use ebpfc_stdlib::meta::MapKind;

/// Number of log2 hist buckets: `(..., 0)`, `[0]`, `[1]` and one per power of two.
const LOG2_BUCKETS: usize = 65;
/// Width of the bar column in text output.
const BAR_WIDTH: usize = 52;

/// The bucket layout of a hist or lhist map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scale {
    /// `hist()`: with `bits` k, each power of two is split into 2^k buckets.
    Log2 {
        bits: u32,
    },
    Linear {
        min: i32,
        max: i32,
        step: i32,
    },
}

impl Scale {
    /// The scale of a map, `None` for maps that are not hists.
    pub(super) fn of(kind: &MapKind) -> Option<Scale> {
        match kind {
            MapKind::Hist { bits } => Some(Scale::Log2 { bits: *bits }),
            MapKind::Lhist { min, max, step } => Some(Scale::Linear {
                min: *min as i32,
                max: *max as i32,
                step: *step as i32,
            }),
            _ => None,
        }
    }
}

/// Number of buckets of a hist or lhist map (0 for other kinds).
pub(super) fn bucket_count(kind: &MapKind) -> usize {
    match Scale::of(kind) {
        Some(Scale::Log2 { bits: 0 }) => LOG2_BUCKETS,
        Some(Scale::Log2 { bits }) => ((64 - bits as usize) << bits) + 1,
        Some(Scale::Linear { min, max, step }) => {
            usize::try_from(linear_buckets(min, max, step)).map_or(2, |n| n + 2)
        }
        None => 0,
    }
}

/// Number of `[a, b)` buckets of an lhist, excluding the two open-ended ones.
fn linear_buckets(min: i32, max: i32, step: i32) -> i32 {
    max.wrapping_sub(min).checked_div(step).unwrap_or(0)
}

/// The first and last non-empty buckets, or `None` when all are empty.
fn used_range(buckets: &[u64]) -> Option<(usize, usize)> {
    let first = buckets.iter().position(|&c| c > 0)?;
    let last = buckets.iter().rposition(|&c| c > 0)?;
    Some((first, last))
}

/// The count a bucket prints: divided by `div` for log2 hists; lhists ignore `div`.
fn shown(count: u64, scale: Scale, div: u64) -> u64 {
    match scale {
        Scale::Log2 { .. } => count / div.max(1),
        Scale::Linear { .. } => count,
    }
}

/// The text chart: one line per bucket from the first to the last non-empty one, bars
/// scaled on the undivided counts.
pub(super) fn text_lines(buckets: &[u64], scale: Scale, div: u64, out: &mut String) {
    let Some((first, last)) = used_range(buckets) else {
        return;
    };
    let max = buckets.iter().copied().max().unwrap_or(0);
    for (i, &count) in buckets.iter().enumerate().take(last + 1).skip(first) {
        let bar = "@".repeat(bar_width(count, max));
        let label = text_label(i, scale);
        let count = shown(count, scale, div);
        let _ = writeln!(out, "{label:<16}{count:>8} |{bar:<BAR_WIDTH$}|");
    }
}

/// `count / max * 52` in single precision, truncated.
fn bar_width(count: u64, max: u64) -> usize {
    let width = count as f32 / max as f32 * BAR_WIDTH as f32;
    (width as usize).min(BAR_WIDTH)
}

fn text_label(i: usize, scale: Scale) -> String {
    match scale {
        Scale::Log2 { bits: 0 } => log2_label(i),
        Scale::Log2 { bits } => fine_label(i, bits),
        Scale::Linear { min, max, step } => linear_label(i, min, max, step),
    }
}

fn log2_label(i: usize) -> String {
    match i {
        0 => "(..., 0)".to_string(),
        1 => "[0]".to_string(),
        2 => "[1]".to_string(),
        _ => format!("[{}, {})", power_label(i - 2), power_label(i - 1)),
    }
}

/// `2^power` with a K, M, G or T suffix for powers of 1024 (none beyond T).
fn power_label(power: usize) -> String {
    let (power, suffix) = match power {
        40.. => (power - 40, "T"),
        30.. => (power - 30, "G"),
        20.. => (power - 20, "M"),
        10.. => (power - 10, "K"),
        _ => (power, ""),
    };
    format!("{}{suffix}", 1i32.wrapping_shl(power as u32))
}

/// The lower bound of bucket `i + 1` of a `hist(v, bits)` with `bits` > 0: `i` for
/// the buckets of one value each (`i <= 2 << bits`), else `2^p * (2^bits + j)` where
/// `p = (i >> bits) - 1` and `j` is the low `bits` bits of `i`.
fn fine_bound(i: usize, bits: u32) -> u64 {
    let n = 1usize << bits;
    if i <= 2 * n {
        return i as u64;
    }
    let power = ((i >> bits) - 1) as u32;
    let interval = (i & (n - 1)) as u64;
    (1u64 << power.min(63)).saturating_mul(n as u64 + interval)
}

/// [`fine_bound`] as text: the largest power of 1024 below it as a suffix.
fn fine_bound_text(i: usize, bits: u32) -> String {
    let n = 1usize << bits;
    if i <= 2 * n {
        return i.to_string();
    }
    let mut power = ((i >> bits) - 1) as u32;
    let decade = (power / 10).min(6);
    power -= 10 * decade;
    let suffix = ["", "K", "M", "G", "T", "P", "E"][decade as usize];
    let value = (1u64 << power) * (n as u64 + (i & (n - 1)) as u64);
    format!("{value}{suffix}")
}

/// The label of bucket `i` of a `hist(v, bits)` with `bits` > 0.
fn fine_label(i: usize, bits: u32) -> String {
    if i == 0 {
        return "(..., 0)".to_string();
    }
    if i <= 2 << bits {
        return format!("[{}]", i - 1);
    }
    let (low, high) = (fine_bound_text(i - 1, bits), fine_bound_text(i, bits));
    format!("[{low}, {high})")
}

/// The JSON bounds of bucket `i` of a `hist(v, bits)` with `bits` > 0.
fn fine_bounds(i: usize, bits: u32) -> String {
    if i == 0 {
        return "\"max\": -1, ".to_string();
    }
    let (low, high) = (
        fine_bound(i - 1, bits),
        fine_bound(i, bits).saturating_sub(1),
    );
    format!("\"min\": {low}, \"max\": {high}, ")
}

fn linear_label(i: usize, min: i32, max: i32, step: i32) -> String {
    let i = i as i32;
    if i == 0 {
        format!("(..., {})", linear_number(min))
    } else if i == linear_buckets(min, max, step) + 1 {
        format!("[{}, ...)", linear_number(max))
    } else {
        let low = linear_bound(i - 1, min, step);
        let high = linear_bound(i, min, step);
        format!("[{}, {})", linear_number(low), linear_number(high))
    }
}

/// `k * step + min` in `int` arithmetic.
fn linear_bound(k: i32, min: i32, step: i32) -> i32 {
    k.wrapping_mul(step).wrapping_add(min)
}

/// An lhist bound: plain, or with an M or K suffix when it is a multiple of 2^20 or 2^10.
fn linear_number(n: i32) -> String {
    const KILO: i32 = 1024;
    const MEGA: i32 = 1024 * 1024;
    if n == 0 {
        "0".to_string()
    } else if n % MEGA == 0 {
        format!("{}M", n / MEGA)
    } else if n % KILO == 0 {
        format!("{}K", n / KILO)
    } else {
        n.to_string()
    }
}

/// The JSON array of buckets `[{"min": a, "max": b, "count": c}, ...]`.
pub(super) fn json_array(buckets: &[u64], scale: Scale, div: u64, out: &mut String) {
    out.push('[');
    if let Some((first, last)) = used_range(buckets) {
        for (i, &count) in buckets.iter().enumerate().take(last + 1).skip(first) {
            if i > first {
                out.push_str(", ");
            }
            let bounds = json_bounds(i, scale);
            let count = shown(count, scale, div);
            let _ = write!(out, "{{{bounds}\"count\": {count}}}");
        }
    }
    out.push(']');
}

/// The `"min": a, "max": b, ` part of a JSON bucket (either may be absent).
fn json_bounds(i: usize, scale: Scale) -> String {
    match scale {
        Scale::Log2 { bits: 0 } => log2_bounds(i),
        Scale::Log2 { bits } => fine_bounds(i, bits),
        Scale::Linear { min, max, step } => linear_bounds(i, min, max, step),
    }
}

fn log2_bounds(i: usize) -> String {
    match i {
        0 => "\"max\": -1, ".to_string(),
        1 => "\"min\": 0, \"max\": 0, ".to_string(),
        2 => "\"min\": 1, \"max\": 1, ".to_string(),
        _ => {
            let low = 1i32.wrapping_shl((i - 2) as u32);
            let high = 1i32.wrapping_shl((i - 1) as u32).wrapping_sub(1);
            format!("\"min\": {low}, \"max\": {high}, ")
        }
    }
}

fn linear_bounds(i: usize, min: i32, max: i32, step: i32) -> String {
    let i = i as i32;
    if i == 0 {
        format!("\"max\": {}, ", min.wrapping_sub(1))
    } else if i == linear_buckets(min, max, step) + 1 {
        format!("\"min\": {max}, ")
    } else {
        let low = linear_bound(i - 1, min, step);
        let high = linear_bound(i, min, step).wrapping_sub(1);
        format!("\"min\": {low}, \"max\": {high}, ")
    }
}

#[cfg(test)]
mod fine_tests {
    use super::*;

    #[test]
    fn bits_split_powers_of_two_into_sub_buckets() {
        let labels: Vec<String> = (0..9).map(|i| fine_label(i, 1)).collect();
        assert_eq!(
            labels,
            ["(..., 0)", "[0]", "[1]", "[2]", "[3]", "[4, 6)", "[6, 8)", "[8, 12)", "[12, 16)"]
        );
        assert_eq!(fine_bounds(5, 1), "\"min\": 4, \"max\": 5, ");
        assert_eq!(fine_label(45, 2), "[4K, 5K)");
        assert_eq!(bucket_count(&MapKind::Hist { bits: 0 }), 65);
        assert_eq!(bucket_count(&MapKind::Hist { bits: 2 }), (62 << 2) + 1);
    }
}
