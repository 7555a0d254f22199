//! Human durations for the load generator's flags: `90s`, `5m`, `1h30m`,
//! `250ms` (the `humantime` crate: the same spelling as Kubernetes and
//! Prometheus durations, so a Job's `--duration=5m` reads like the manifests
//! around it), or plain seconds (`30`, `0.5`: what an environment variable
//! most likely says).

use std::time::Duration;

/// Parses `text` into a duration; `None` for anything else (empty, negative,
/// unknown unit, not finite, too large for a `Duration`).
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    // humantime also takes spaces between parts ("1h 30m"), but not here:
    // one word, as in a manifest.
    if text.contains(char::is_whitespace) || !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    humantime::parse_duration(text).ok()
}

/// Renders `d` the short way the summary prints it: `2s`, `1s500ms`, `5m`, `1h30m`.
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
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
            "", "s", "-1", "-5s", "5x", "5 m", "m5", "1..5s", "inf", "NaN", "1e400", "1h 30m",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn formats_short() {
        for (secs, want) in [
            (2.0, "2s"),
            (1.5, "1s500ms"),
            (300.0, "5m"),
            (5400.0, "1h30m"),
            (90.0, "1m30s"),
        ] {
            assert_eq!(format(Duration::from_secs_f64(secs)), want);
        }
        // Found by fuzzing (the hand-written formatter before humantime): a
        // sub-millisecond part was dropped from durations of a minute or more.
        let d = Duration::from_secs(5497) + Duration::from_micros(900);
        assert_eq!(format(d), "1h31m37s900us");
        assert_eq!(parse(&format(d)), Some(d));
    }
}
