//! One temperature reading: the text of a sysfs temperature file turned into
//! °C, and a sensor's latest good value with the pass that produced it.
//!
//! Both `thermal_zone*/temp` and `hwmon*/temp*_input` hold a signed integer in
//! millidegrees Celsius followed by a newline (the kernel's sysfs ABI). Parsing
//! works on a borrowed byte slice, so a reading allocates nothing.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::AtomicF64;

/// Why a sensor produced no value in one sampling pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// open(2) or pread(2) failed (`EAGAIN`, `ENODATA`, `EIO`, `ENOENT`, …); the raw errno.
    Io(i32),
    /// The file was empty (or only whitespace).
    Empty,
    /// The text is not an integer that fits in 64 bits.
    Garbage,
}

impl ReadError {
    pub fn from_io(e: &io::Error) -> ReadError {
        ReadError::Io(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(errno) => write!(f, "{}", io::Error::from_raw_os_error(*errno)),
            ReadError::Empty => f.write_str("empty file"),
            ReadError::Garbage => f.write_str("not an integer number of millidegrees"),
        }
    }
}

/// Parses millidegrees (`"45500\n"`, `"-12345"`) into degrees Celsius.
///
/// Only an optional sign and decimal digits are accepted, after trimming
/// ASCII whitespace: a fraction, an exponent or trailing text is garbage
/// (the ABI never has them, and guessing would hide a broken driver).
pub(crate) fn parse_millidegrees(text: &[u8]) -> Result<f64, ReadError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(ReadError::Empty);
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ReadError::Garbage);
    }
    // All ASCII, so from_utf8 cannot fail; parse checks the i64 range.
    let millis: i64 = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ReadError::Garbage)?;
    Ok(millidegrees_to_celsius(millis))
}

/// A division, not a multiplication by 0.001: the quotient is the double
/// nearest the exact decimal (9 → 0.009, where `9.0 * 0.001` gives
/// 0.009000000000000001), the same as node_exporter's thermal_zone collector.
pub(crate) fn millidegrees_to_celsius(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// A sensor's latest good value, stamped with the sampling pass it came in:
/// the one place where value and up/down live. The sensor is up while the
/// stamp is *fresh*, from the latest judged pass (one whose reads have all
/// answered or passed their deadline) or a later one. A failed read clears
/// the stamp at once; a read that never answers lets it go stale when its
/// pass is judged. Only the reader of the sensor writes it.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    celsius: AtomicF64,
    /// The pass that produced `celsius`; 0 while there is no good value.
    pass: AtomicU64,
}

impl Reading {
    /// Records the outcome of a read finished during pass `pass` (≥ 1).
    pub(crate) fn record(&self, result: Result<f64, ReadError>, pass: u64) {
        match result {
            Ok(v) => {
                self.celsius.set(v);
                // Release: whoever sees the stamp sees the value.
                self.pass.store(pass, Ordering::Release);
            }
            Err(_) => self.pass.store(0, Ordering::Release),
        }
    }

    /// The latest good value, if fresh as of the judged pass `judged`.
    pub(crate) fn fresh(&self, judged: u64) -> Option<f64> {
        let pass = self.pass.load(Ordering::Acquire);
        (pass != 0 && pass >= judged).then(|| self.celsius.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_sysfs_abi() {
        assert_eq!(parse_millidegrees(b"45500\n"), Ok(45.5));
        assert_eq!(parse_millidegrees(b"-12345\n"), Ok(-12.345));
        assert_eq!(parse_millidegrees(b"0"), Ok(0.0));
        assert_eq!(parse_millidegrees(b"  9 \n"), Ok(0.009));
        assert_eq!(parse_millidegrees(b"33333"), Ok(33.333));
    }

    #[test]
    fn huge_values_keep_their_magnitude() {
        assert_eq!(
            parse_millidegrees(b"9223372036854775807\n"),
            Ok(9_223_372_036_854_775.807)
        );
        assert_eq!(
            parse_millidegrees(b"-9223372036854775808"),
            Ok(-9_223_372_036_854_775.808)
        );
        assert_eq!(parse_millidegrees(b"123456789"), Ok(123_456.789));
    }

    #[test]
    fn rejects_what_the_abi_never_writes() {
        assert_eq!(parse_millidegrees(b""), Err(ReadError::Empty));
        assert_eq!(parse_millidegrees(b" \n"), Err(ReadError::Empty));
        for bad in [
            &b"garbage\n"[..],
            b"-",
            b"+5",
            b"45.5",
            b"1e3",
            b"45500 C",
            b"0x10",
            b"9223372036854775808",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_millidegrees(bad), Err(ReadError::Garbage), "{bad:?}");
        }
    }

    #[test]
    fn a_reading_is_fresh_until_a_later_pass_is_judged_or_a_read_fails() {
        let r = Reading::default();
        assert_eq!(r.fresh(0), None, "nothing read yet");
        r.record(Ok(45.5), 3);
        assert_eq!((r.fresh(2), r.fresh(3)), (Some(45.5), Some(45.5)));
        assert_eq!(r.fresh(4), None, "pass 4 judged without a new value: stale");
        r.record(Ok(-1.0), 5);
        assert_eq!(r.fresh(4), Some(-1.0));
        r.record(Err(ReadError::Garbage), 5);
        assert_eq!(r.fresh(4), None, "a failed read is down at once");
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(ReadError::Empty.to_string(), "empty file");
        assert!(ReadError::Io(libc::ENODATA).to_string().contains("os error"));
    }
}
