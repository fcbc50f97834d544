//! The wall-clock text of `strftime(fmt, ns)` values: `ns` is CLOCK_MONOTONIC (the
//! clock of `bpf_ktime_get_ns`), turned into wall time with the difference between the
//! realtime and monotonic clocks taken once per session, then formatted in the local
//! time zone with strftime(3). `%f` is the microseconds (six digits), as bpftrace has it.
//!
//! Invariant: one session converts every time with the same clock difference, so equal
//! nanoseconds always print the same text.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::sys::{monotonic_ns, Calendar};

/// Converts and formats monotonic times.
#[derive(Debug, Clone)]
pub(crate) struct WallClock {
    /// Realtime minus monotonic, in nanoseconds.
    offset_ns: i128,
}

impl WallClock {
    /// The clocks' difference now.
    pub fn now() -> Self {
        let realtime = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        Self {
            offset_ns: realtime - i128::from(monotonic_ns()),
        }
    }

    /// A clock with a fixed difference (tests).
    #[cfg(test)]
    pub fn with_offset(offset_ns: i128) -> Self {
        Self { offset_ns }
    }

    /// `ns` of CLOCK_MONOTONIC formatted with the strftime `format` in local time;
    /// `None` when the time cannot be represented.
    pub fn format(&self, format: &str, ns: u64) -> Option<Vec<u8>> {
        self.format_with(format, ns, Calendar::local)
    }

    fn format_with(
        &self,
        format: &str,
        ns: u64,
        calendar: fn(i64) -> std::io::Result<Calendar>,
    ) -> Option<Vec<u8>> {
        let wall = self.offset_ns + i128::from(ns);
        let seconds = i64::try_from(wall.div_euclid(1_000_000_000)).ok()?;
        let micros = wall.rem_euclid(1_000_000_000) / 1000;
        let format = with_microseconds(format, micros as u32);
        Some(calendar(seconds).ok()?.format(&format))
    }
}

/// `format` with every `%f` replaced by `micros` as six digits; `%%` stays as it is,
/// so `%%f` still prints `%f`.
fn with_microseconds(format: &str, micros: u32) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => out.push_str(&format!("{micros:06}")),
            Some(next) => {
                out.push('%');
                out.push(next);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24 22:11:59.123456789 UTC as the offset, so monotonic 0 is that time.
    const FIXED_NS: i128 = 1_795_558_319_123_456_789;

    fn utc(format: &str, ns: u64) -> String {
        let clock = WallClock::with_offset(FIXED_NS);
        let text = clock.format_with(format, ns, Calendar::utc).unwrap();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn monotonic_times_become_wall_times() {
        assert_eq!(utc("%Y-%m-%d %H:%M:%S", 0), "2026-11-24 22:11:59");
        assert_eq!(utc("%H:%M:%S", 61_000_000_000), "22:13:00");
    }

    #[test]
    fn percent_f_is_microseconds() {
        assert_eq!(utc("%S.%f", 0), "59.123456");
        assert_eq!(utc("%S.%f", 900_000_000), "00.023456");
        assert_eq!(utc("%%f %f%", 0), "%f 123456%");
    }

    #[test]
    fn the_session_clock_formats_now() {
        let clock = WallClock::now();
        let text = clock.format("%Y", monotonic_ns()).unwrap();
        assert_eq!(text.len(), 4);
    }
}
