//! Calendar time and strftime(3), for `time(fmt)`, and the monotonic clock BPF
//! programs read (`bpf_ktime_get_ns`), for `elapsed`.
//!
//! Invariant: strftime(3) is only ever given a NUL-terminated format and a buffer whose
//! exact length it is told.

use std::ffi::CString;
use std::io;

/// The largest output `time()` may produce; longer results are cut off at this size.
const MAX_OUTPUT: usize = 64 * 1024;

/// A broken-down time (`struct tm`).
pub(crate) struct Calendar(libc::tm);

impl Calendar {
    /// `seconds` since the epoch in the local time zone.
    pub fn local(seconds: i64) -> io::Result<Self> {
        Self::convert(seconds, libc::localtime_r)
    }

    /// `seconds` since the epoch in UTC (tests use it: it does not depend on `TZ`).
    #[cfg(test)]
    pub fn utc(seconds: i64) -> io::Result<Self> {
        Self::convert(seconds, libc::gmtime_r)
    }

    fn convert(
        seconds: i64,
        convert: unsafe extern "C" fn(*const libc::time_t, *mut libc::tm) -> *mut libc::tm,
    ) -> io::Result<Self> {
        let time: libc::time_t = seconds;
        // SAFETY: `tm` is plain data for which all-zero is valid; the conversion reads
        // one time_t and writes one tm, both live for the call.
        unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if convert(&time, &mut tm).is_null() {
                return Err(io::Error::from(io::ErrorKind::InvalidInput));
            }
            Ok(Self(tm))
        }
    }

    /// The time formatted with the strftime(3) `format` (cut at its first NUL, as C
    /// would read it). An empty result is empty, not an error.
    pub fn format(&self, format: &str) -> Vec<u8> {
        let format = format.split('\0').next().unwrap_or_default();
        let Ok(format) = CString::new(format) else {
            return Vec::new();
        };
        if format.is_empty() {
            return Vec::new();
        }
        let mut size = 256;
        loop {
            let mut buf = vec![0u8; size];
            // SAFETY: `buf` has exactly `size` writable bytes, `format` is NUL-terminated
            // and `self.0` is a valid tm; strftime writes at most `size` bytes.
            let len = unsafe {
                libc::strftime(
                    buf.as_mut_ptr().cast::<libc::c_char>(),
                    size,
                    format.as_ptr(),
                    &self.0,
                )
            };
            if len > 0 || size >= MAX_OUTPUT {
                buf.truncate(len);
                return buf;
            }
            size *= 4;
        }
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds: the clock of `bpf_ktime_get_ns`.
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which lives for the call.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if ret != 0 {
        return 0;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24 22:11:59 UTC, a Tuesday.
    const FIXED: i64 = 1_795_558_319;

    #[test]
    fn formats_a_fixed_time() {
        let tm = Calendar::utc(FIXED).unwrap();
        assert_eq!(tm.format("%H:%M:%S\n"), b"22:11:59\n");
        assert_eq!(tm.format("%Y-%m-%d %a %j"), b"2026-11-24 Tue 328");
        assert_eq!(tm.format("a\tb\"%%"), b"a\tb\"%");
    }

    #[test]
    fn empty_nul_cut_and_long_formats() {
        let tm = Calendar::utc(FIXED).unwrap();
        assert_eq!(tm.format(""), b"");
        assert_eq!(tm.format("%Y\0%m"), b"2026");
        let long = "%Y".repeat(1000);
        assert_eq!(tm.format(&long), "2026".repeat(1000).into_bytes());
    }

    #[test]
    fn local_time_is_available() {
        let tm = Calendar::local(FIXED).unwrap();
        assert_eq!(tm.format("%Y").len(), 4);
    }

    #[test]
    fn the_monotonic_clock_advances() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(a > 0 && b >= a, "{a} {b}");
    }
}
