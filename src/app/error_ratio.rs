//! `--error-ratio`: which `/` requests answer `500`, spread evenly.
//!
//! Each worker thread keeps an accumulator that grows by the ratio on every
//! request and marks an error when it passes one whole (the error-diffusion
//! idea behind Bresenham's line): with 0.1, exactly every tenth request of a
//! thread fails, never a burst, so an error-rate alert or HPA sees a steady
//! ratio from the first seconds. No shared state, no randomness.

use std::cell::Cell;

use crate::grammar::{in_range, number};

/// Parts per million: integer steps keep the spread exact over any count.
const WHOLE: u32 = 1_000_000;

thread_local! {
    static ACCUMULATED: Cell<u32> = const { Cell::new(0) };
}

/// A share of requests to fail, from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorRatio {
    per_million: u32,
}

impl ErrorRatio {
    /// `ratio` in 0..=1 (checked by the flag's parser).
    pub fn new(ratio: f64) -> ErrorRatio {
        ErrorRatio {
            per_million: (ratio.clamp(0.0, 1.0) * WHOLE as f64).round() as u32,
        }
    }

    /// Whether no request ever fails.
    pub fn is_zero(self) -> bool {
        self.per_million == 0
    }

    /// Whether this thread's next request fails.
    pub fn next_fails(self) -> bool {
        ACCUMULATED.with(|acc| {
            let sum = acc.get() + self.per_million;
            let fails = sum >= WHOLE;
            acc.set(if fails { sum - WHOLE } else { sum });
            fails
        })
    }
}

/// Parses a ratio flag: a number from 0 to 1.
pub(crate) fn parse_ratio(s: &str) -> Result<f64, String> {
    in_range(number(s), 0.0..=1.0, "expected a ratio from 0 to 1, like 0.05")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_evenly() {
        let ratio = ErrorRatio::new(0.25);
        let fails: Vec<bool> = (0..8).map(|_| ratio.next_fails()).collect();
        assert_eq!(fails, [false, false, false, true, false, false, false, true]);
        let third = ErrorRatio::new(1.0 / 3.0);
        let n = (0..3000).filter(|_| third.next_fails()).count();
        assert!((999..=1001).contains(&n), "{n}");
        assert!(ErrorRatio::new(0.0).is_zero());
        assert!((0..10).all(|_| ErrorRatio::new(1.0).next_fails()));
    }

    #[test]
    fn ratio_flag() {
        assert_eq!(parse_ratio("0.05"), Ok(0.05));
        for bad in ["-0.1", "1.5", "NaN", "x", ""] {
            assert!(parse_ratio(bad).is_err(), "{bad}");
        }
    }
}
