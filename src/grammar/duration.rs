//! Durations, the one grammar of every flag (`--header-timeout 10s`,
//! `--delay 100ms..2s`, `loadgen --duration 1h30m`) and of the paths that
//! take one (`/delay/250ms`, `/work/2`):
//!
//! - plain seconds, decimals allowed: `2`, `0.5` (what an environment
//!   variable most likely says; podinfo's `/delay/2`);
//! - or one or more `NUMBER UNIT` parts with no blank between them: `250ms`,
//!   `1.5s`, `1h30m`, `2m30s`; units `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`,
//!   `d`, `w`, and the long names the `humantime` crate took (`sec`, `min`,
//!   `hours`…), so Kubernetes, Prometheus and Go spellings all read.
//!
//! Blanks around the whole are ignored; signs, exponents and blanks inside
//! are not durations. The value is exact to the nanosecond (integer
//! arithmetic, no float rounding), so what [`format`] prints parses back to
//! the same duration. [`parse`] allocates nothing: paths are parsed on the
//! request path. Each caller applies its own bounds.

use std::time::Duration;

/// The grammar in one line, for `--help`.
pub const SPELLING: &str = "Durations are plain seconds (2, 0.5) or NUMBER+UNIT parts (250ms, 1.5s, 1h30m), \
     with units ns, us, ms, s, m, h, d and w.";

/// Nanoseconds per unit, by every spelling taken.
const UNITS: [(&str, u64); 27] = [
    ("ns", 1),
    ("nsec", 1),
    ("nanos", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("usec", 1_000),
    ("ms", 1_000_000),
    ("msec", 1_000_000),
    ("millis", 1_000_000),
    ("s", SECOND),
    ("sec", SECOND),
    ("second", SECOND),
    ("seconds", SECOND),
    ("m", 60 * SECOND),
    ("min", 60 * SECOND),
    ("minute", 60 * SECOND),
    ("minutes", 60 * SECOND),
    ("h", 3_600 * SECOND),
    ("hr", 3_600 * SECOND),
    ("hour", 3_600 * SECOND),
    ("hours", 3_600 * SECOND),
    ("d", 86_400 * SECOND),
    ("day", 86_400 * SECOND),
    ("days", 86_400 * SECOND),
    ("w", 604_800 * SECOND),
    ("week", 604_800 * SECOND),
];

const SECOND: u64 = 1_000_000_000;

/// The longest duration there is, in nanoseconds.
const MAX_NANOS: u128 = Duration::MAX.as_nanos();

/// Parses `text`; `None` for anything that is not a duration in the
/// module's grammar, or longer than a [`Duration`] holds.
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit) = split_number(text)?;
    if unit.is_empty() {
        return to_duration(scaled(digits, SECOND)?);
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let (digits, after) = split_number(rest)?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let per_unit = UNITS.iter().find(|(name, _)| *name == unit)?.1;
        total = total.checked_add(scaled(digits, per_unit)?)?;
        rest = next;
    }
    to_duration(total)
}

/// The decimal number at the start of `text`, and what follows it; `None`
/// when `text` does not start with one.
fn split_number(text: &str) -> Option<(&str, &str)> {
    let len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (len > 0).then(|| text.split_at(len))
}

/// `digits` (at least one digit, at most one point) times `per_unit`
/// nanoseconds, rounded to the nanosecond; `None` otherwise or on overflow.
fn scaled(digits: &str, per_unit: u64) -> Option<u128> {
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    let mut nanos: u128 = 0;
    for b in whole.bytes() {
        nanos = nanos.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        if nanos > MAX_NANOS {
            return None;
        }
    }
    nanos = nanos.checked_mul(u128::from(per_unit))?;
    // Digits past the 20th are below a nanosecond of even a week.
    let (mut numerator, mut denominator) = (0u128, 1u128);
    for b in fraction.bytes().take(20) {
        numerator = numerator * 10 + u128::from(b - b'0');
        denominator *= 10;
    }
    nanos.checked_add((numerator * u128::from(per_unit) + denominator / 2) / denominator)
}

fn to_duration(nanos: u128) -> Option<Duration> {
    if nanos > MAX_NANOS {
        return None;
    }
    let secs = u64::try_from(nanos / u128::from(SECOND)).ok()?;
    Some(Duration::new(secs, (nanos % u128::from(SECOND)) as u32))
}

/// Renders `d` in the grammar's shortest compound form: `2s`, `1s500ms`,
/// `5m`, `1h30m`, `36h`, `0s`. [`parse`] reads it back exactly.
pub fn format(d: Duration) -> String {
    const PARTS: [(&str, u128); 6] = [
        ("h", 3_600 * SECOND as u128),
        ("m", 60 * SECOND as u128),
        ("s", SECOND as u128),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let mut left = d.as_nanos();
    if left == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, nanos) in PARTS {
        if left >= nanos {
            out.push_str(&(left / nanos).to_string());
            out.push_str(unit);
            left %= nanos;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_seconds_and_units() {
        let ms = Duration::from_millis;
        for (text, want) in [
            ("2", Duration::from_secs(2)),
            ("0.5", ms(500)),
            ("0", Duration::ZERO),
            (" 8m ", Duration::from_secs(480)),
            (".5", ms(500)),
            ("1.", Duration::from_secs(1)),
            ("250ms", ms(250)),
            ("1.5s", ms(1500)),
            ("100us", Duration::from_micros(100)),
            ("100µs", Duration::from_micros(100)),
            ("7ns", Duration::from_nanos(7)),
            ("1m", Duration::from_secs(60)),
            ("1h", Duration::from_secs(3600)),
            ("1.5h", Duration::from_secs(5400)),
            ("1h30m", Duration::from_secs(5400)),
            ("2m30s", Duration::from_secs(150)),
            ("1d", Duration::from_secs(86_400)),
            ("1w", Duration::from_secs(604_800)),
            ("5min", Duration::from_secs(300)),
            ("2hours", Duration::from_secs(7200)),
            ("1s500ms", ms(1500)),
            ("0.000000001s", Duration::from_nanos(1)),
            ("1.0000000004s", Duration::from_secs(1)),
            ("18446744073709551615", Duration::from_secs(u64::MAX)),
        ] {
            assert_eq!(parse(text), Some(want), "{text:?}");
        }
    }

    #[test]
    fn rejects_the_rest() {
        for text in [
            "",
            " ",
            "s",
            "ms",
            ".",
            ".s",
            "-1",
            "-5s",
            "+5s",
            "5x",
            "5 m",
            "1h 30m",
            "m5",
            "1..5s",
            "1.2.3s",
            "inf",
            "NaN",
            "1e3",
            "1e400",
            "1h30",
            "2months",
            "1y",
            "18446744073709551616",
            "18446744073709551615s1s",
            "99999999999999999999999999999999999999999w",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn formats_short_and_reads_back() {
        for (secs, want) in [
            (2.0, "2s"),
            (1.5, "1s500ms"),
            (300.0, "5m"),
            (5400.0, "1h30m"),
            (90.0, "1m30s"),
            (0.0, "0s"),
            (129_600.0, "36h"),
        ] {
            assert_eq!(format(Duration::from_secs_f64(secs)), want);
        }
        for d in [
            Duration::from_secs(5497) + Duration::from_micros(900),
            Duration::new(3, 7),
            Duration::MAX,
        ] {
            assert_eq!(parse(&format(d)), Some(d), "{}", format(d));
        }
    }
}
