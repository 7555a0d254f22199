//! Durations written in a path (`/delay/250ms`) or a flag (`--delay 1.5s`):
//! a decimal number and a unit, `us`, `ms`, `s` or `m`; a bare number is
//! seconds (podinfo's `/delay/2`). Parsed without allocating, since a path
//! is parsed on the request path.

use std::time::Duration;

/// Parses `250ms`, `1.5s`, `2`, `1m`; `None` for anything else (negative,
/// empty, an unknown unit, more than a day).
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let nanos_per_unit: f64 = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "m" => 60e9,
        _ => return None,
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos > 86_400e9 {
        return None;
    }
    Some(Duration::from_nanos(nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("100us"), Some(Duration::from_micros(100)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        for bad in [
            "",
            "ms",
            "-1s",
            "1h",
            "1.s",
            ".5",
            "1..2",
            "1e3",
            "1 s",
            "2d",
            "99999999m",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
