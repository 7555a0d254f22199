//! Latency histogram: fixed log-linear buckets over nanoseconds, so memory
//! stays at 15 KiB however long the run (a Vec of samples would grow to
//! gigabytes at the top rate for a day).
//!
//! Each power of two is split into 32 equal buckets, so a percentile is
//! reported within 1/32 (about 3 %) above the true value; values below 64 ns
//! are exact. The maximum is kept exactly.

use std::time::Duration;

const SUB_BITS: u32 = 5;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Groups 0 and 1 hold 0..64 one by one; group g ≥ 2 covers [2^(g+4), 2^(g+5)).
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB_BUCKETS;

#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("total", &self.total)
            .field("max", &self.max)
            .finish()
    }
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(ns)] += 1;
        self.total += 1;
        self.max = self.max.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max)
    }

    /// The nearest-rank `q` quantile (0 < q ≤ 1): the smallest recorded value
    /// with at least `q` of all values at or below it, rounded up to its
    /// bucket's upper end (never above the maximum). `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(Duration::from_nanos(upper(i).min(self.max)));
            }
        }
        Some(self.max())
    }
}

/// Bucket of `ns`: exact below 64, else its power of two and the next five bits.
fn index(ns: u64) -> usize {
    if ns < 2 * SUB_BUCKETS as u64 {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros(); // ≥ SUB_BITS + 1
    let shift = exp - SUB_BITS;
    let sub = ((ns >> shift) as usize) & (SUB_BUCKETS - 1);
    (exp - SUB_BITS + 1) as usize * SUB_BUCKETS + sub
}

/// Largest value that falls in bucket `i`.
fn upper(i: usize) -> u64 {
    if i < 2 * SUB_BUCKETS {
        return i as u64;
    }
    let group = (i / SUB_BUCKETS) as u32;
    let sub = (i % SUB_BUCKETS) as u64;
    let shift = group - 1;
    let lower = (SUB_BUCKETS as u64 + sub) << shift;
    lower + ((1u64 << shift) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for ns in (0..5000u64).chain([u64::MAX / 2, u64::MAX - 1, u64::MAX]) {
            let i = index(ns);
            assert!(i < BUCKETS, "{ns}");
            assert!(i >= last, "monotonic at {ns}");
            assert!(ns <= upper(i), "{ns} within bucket {i}");
            assert!(i == 0 || ns > upper(i - 1), "{ns} above bucket {}", i - 1);
            last = i;
        }
        assert_eq!(upper(BUCKETS - 1), u64::MAX);
        assert_eq!((index(63), index(64), index(65), index(66)), (63, 64, 64, 65));
    }

    #[test]
    fn quantiles_are_within_one_bucket() {
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
            assert!(got >= want_us && got <= want_us * (1.0 + 1.0 / 32.0), "q{q}: {got} µs");
        }
    }

    #[test]
    fn small_values_are_exact_and_max_caps() {
        let mut h = Histogram::default();
        for ns in [5, 5, 7, 40] {
            h.record(Duration::from_nanos(ns));
        }
        assert_eq!(h.quantile(0.5), Some(Duration::from_nanos(5)));
        assert_eq!(h.quantile(0.75), Some(Duration::from_nanos(7)));
        assert_eq!(h.quantile(1.0), Some(Duration::from_nanos(40)));
        let mut one = Histogram::default();
        one.record(Duration::from_millis(3));
        assert_eq!(
            one.quantile(0.99),
            Some(Duration::from_millis(3)),
            "capped at the maximum"
        );
    }
}
