//! Latency histogram: an HDR histogram (the `hdrhistogram` crate) over
//! nanoseconds, 1 ns to one hour at two significant digits, so memory stays
//! at tens of KiB however long the run, and a percentile is within 1 % of
//! the true value. The maximum is kept exactly.

use std::time::Duration;

/// Largest latency recorded as itself; longer ones count as this (a request
/// times out long before: `--timeout` is at most 300 s).
const HIGHEST: u64 = 3_600_000_000_000;

#[derive(Clone)]
pub(crate) struct Histogram {
    hdr: hdrhistogram::Histogram<u64>,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            hdr: hdrhistogram::Histogram::new_with_bounds(1, HIGHEST, 2).expect("constant bounds are valid"),
            max: 0,
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("total", &self.count())
            .field("max", &self.max)
            .finish()
    }
}

impl Histogram {
    pub(crate) fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.hdr.saturating_record(ns.clamp(1, HIGHEST));
        self.max = self.max.max(ns);
    }

    pub(crate) fn count(&self) -> u64 {
        self.hdr.len()
    }

    pub(crate) fn max(&self) -> Duration {
        Duration::from_nanos(self.max)
    }

    /// The `q` quantile (0 < q ≤ 1): the smallest recorded value with at
    /// least `q` of all values at or below it, within 1 % above (never above
    /// the maximum). `None` when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        if self.hdr.is_empty() {
            return None;
        }
        let ns = self.hdr.value_at_quantile(q.clamp(0.0, 1.0));
        Some(Duration::from_nanos(ns.min(self.max)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_one_percent() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        // 1..=1000 µs, once each.
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.max(), Duration::from_micros(1000));
        for (q, want_us) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0), (1.0, 1000.0)] {
            let got = h.quantile(q).unwrap().as_secs_f64() * 1e6;
            assert!(got >= want_us && got <= want_us * 1.01, "q{q}: {got} µs");
        }
    }

    #[test]
    fn extremes_and_the_maximum() {
        let mut h = Histogram::default();
        for ns in [0, 5, 5, 7, 40] {
            h.record(Duration::from_nanos(ns));
        }
        assert_eq!(h.quantile(0.6), Some(Duration::from_nanos(5)));
        assert_eq!(h.quantile(1.0), Some(Duration::from_nanos(40)));
        let mut one = Histogram::default();
        one.record(Duration::from_millis(3));
        assert_eq!(
            one.quantile(0.99),
            Some(Duration::from_millis(3)),
            "capped at the maximum"
        );
        let mut huge = Histogram::default();
        huge.record(Duration::from_secs(7200));
        assert_eq!((huge.count(), huge.max()), (1, Duration::from_secs(7200)));
    }
}
