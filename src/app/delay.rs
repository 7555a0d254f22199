//! `--delay D` or `--delay MIN..MAX`: latency added to every `/` answer,
//! and the bound on `/delay/{duration}` (both in the crate's one duration
//! grammar, `crate::grammar::duration`).
//!
//! A range picks each delay uniformly from a per-thread xorshift generator:
//! no shared state and no system call per request.

use std::cell::Cell;
use std::time::Duration;

use crate::grammar::duration;

/// The longest `/delay/{duration}` and `--delay`: long enough for any
/// latency experiment, short enough that a typo does not hold a connection
/// (and a shutdown) for minutes.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(10);

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// A fixed delay, or a range to pick from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelayRange {
    pub min: Duration,
    pub max: Duration,
}

impl DelayRange {
    /// The delay for the next request.
    pub fn pick(self) -> Duration {
        let span = (self.max - self.min).as_nanos() as u64;
        if span == 0 {
            return self.min;
        }
        let random = STATE.with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x
        });
        self.min + Duration::from_nanos(random % (span + 1))
    }
}

/// Parses the `--delay` flag: `250ms`, or `100ms..2s`; each at most [`MAX_DELAY`].
pub(crate) fn parse_delay(s: &str) -> Result<DelayRange, String> {
    let error = || format!("expected a delay up to 10s like 250ms, or a range like 100ms..2s, not {s:?}");
    let bounded = |d: &str| duration::parse(d).filter(|d| *d <= MAX_DELAY).ok_or_else(error);
    let (min, max) = match s.split_once("..") {
        Some((min, max)) => (bounded(min)?, bounded(max)?),
        None => {
            let d = bounded(s)?;
            (d, d)
        }
    };
    if min > max {
        return Err(error());
    }
    Ok(DelayRange { min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values() {
        let ms = Duration::from_millis;
        assert_eq!(
            parse_delay("250ms"),
            Ok(DelayRange {
                min: ms(250),
                max: ms(250)
            })
        );
        assert_eq!(
            parse_delay("100ms..2s"),
            Ok(DelayRange {
                min: ms(100),
                max: ms(2000)
            })
        );
        for bad in ["", "11s", "2s..1s", "1s..", "..1s", "fast", "1s..11s"] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn picks_within_the_range() {
        let range = parse_delay("10ms..20ms").unwrap();
        let picks: Vec<Duration> = (0..1000).map(|_| range.pick()).collect();
        assert!(picks.iter().all(|d| (range.min..=range.max).contains(d)));
        assert!(picks.iter().any(|d| *d < Duration::from_millis(12)));
        assert!(picks.iter().any(|d| *d > Duration::from_millis(18)));
        let fixed = parse_delay("5ms").unwrap();
        assert_eq!(fixed.pick(), Duration::from_millis(5));
    }
}
