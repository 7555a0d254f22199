//! Human durations for the load generator's flags: `90s`, `5m`, `1h`,
//! `1h30m`, `250ms`, `1.5s`, or plain seconds (`30`, `0.5`).
//!
//! The same spelling as Kubernetes and Prometheus durations, so a Job's
//! `--duration=5m` reads like the manifests around it.

use std::time::Duration;

/// Parses `text` into a duration; `None` for anything else (empty, negative,
/// unknown unit, not finite, too large for a `Duration`).
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // Plain seconds: what `--timeout 10` or an environment variable most likely says.
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs);
    }
    let mut total = 0.0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let unit_len = rest[number_len..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - number_len);
        let number: f64 = rest[..number_len].parse().ok()?;
        let unit = unit_seconds(&rest[number_len..number_len + unit_len])?;
        total += number * unit;
        rest = &rest[number_len + unit_len..];
    }
    seconds(total)
}

/// Renders `d` the short way the summary prints it: `2s`, `1.5s`, `5m`, `1h30m`.
pub fn format(d: Duration) -> String {
    // Any fraction of a second (not only whole milliseconds) needs the
    // seconds form: `1h30m` for 1h30m0.0009s would not be the duration used.
    if d.subsec_nanos() != 0 || d.as_secs() < 60 {
        let secs = d.as_secs_f64();
        return if secs.fract() == 0.0 {
            format!("{secs:.0}s")
        } else {
            format!("{secs}s")
        };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            out += &format!("{value}{unit}");
        }
    }
    out
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    })
}

fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_units_and_plain_seconds() {
        for (text, want) in [
            ("90s", 90.0),
            ("5m", 300.0),
            ("1h", 3600.0),
            ("1h30m", 5400.0),
            ("2m30s", 150.0),
            ("250ms", 0.25),
            ("1.5s", 1.5),
            ("30", 30.0),
            ("0.5", 0.5),
            (" 8m ", 480.0),
            ("0", 0.0),
        ] {
            assert_eq!(parse(text), Some(Duration::from_secs_f64(want)), "{text}");
        }
    }

    #[test]
    fn rejects_the_rest() {
        for text in [
            "", "s", "-1", "-5s", "5x", "5 m", "m5", "1..5s", "inf", "NaN", "1e400", "5d",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn formats_short() {
        for (secs, want) in [
            (2.0, "2s"),
            (1.5, "1.5s"),
            (300.0, "5m"),
            (5400.0, "1h30m"),
            (90.0, "1m30s"),
        ] {
            assert_eq!(format(Duration::from_secs_f64(secs)), want);
        }
        // Found by fuzzing: a sub-millisecond part was dropped from durations
        // of a minute or more.
        let d = parse(".9ms0ms1h30m97s").unwrap();
        assert_eq!(format(d), "5497.0009s");
    }
}
