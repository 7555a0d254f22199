//! `Histogram` and `HistogramVec`: fixed buckets, lock-free observations on
//! per-thread shards, and consistent snapshots.
//!
//! An observation adds 1 to its bucket, adds the value to the sum (Release),
//! then adds 1 to the count (Release). A snapshot of one shard reads the count
//! (Acquire), the sum (Acquire), then the buckets, and is accepted only when
//! the buckets add up to the count read first: the sum's Acquire makes every
//! bucket increment of the observations it contains visible, so equal totals
//! mean buckets, sum and count describe the same observations. A snapshot
//! that catches an observation half-done retries; after a few tries (only
//! possible when several threads share a shard and observe without pause) it
//! takes the bucket total as the count, which still keeps `le="+Inf"` equal to
//! `_count` and the buckets monotonic.

use std::sync::atomic::Ordering;

use super::desc::{Desc, MetricType};
use super::encoding::{label_pairs, write_f64};
use super::gauge::add_f64_bits;
use super::registry::{Collector, Sample, Value};
use super::series::SeriesLabels;
use super::shard::{current_shard, shard_count, ShardedCells};

const SNAPSHOT_TRIES: usize = 64;

/// Bucket upper bounds, sorted, finite, distinct (`+Inf` is implicit).
#[derive(Debug, Clone)]
pub struct Buckets {
    bounds: Box<[f64]>,
    /// `le` label values, `+Inf` last.
    labels: Box<[Box<str>]>,
}

impl Buckets {
    /// Panics on unsorted, duplicate or non-finite bounds: buckets are a
    /// programming decision, fixed at start-up.
    pub fn new(bounds: &[f64]) -> Buckets {
        assert!(bounds.iter().all(|b| b.is_finite()), "bucket bounds must be finite");
        assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bucket bounds must increase");
        let mut labels: Vec<Box<str>> = bounds
            .iter()
            .map(|b| {
                let mut s = Vec::new();
                write_f64(&mut s, *b);
                String::from_utf8(s).expect("ascii").into_boxed_str()
            })
            .collect();
        labels.push("+Inf".into());
        Buckets {
            bounds: bounds.into(),
            labels: labels.into(),
        }
    }

    /// The upper bounds, without the implicit `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    #[inline]
    fn index(&self, v: f64) -> usize {
        if v.is_nan() {
            return self.bounds.len();
        }
        // First bound >= v (`le` is inclusive).
        self.bounds.partition_point(|b| *b < v)
    }
}

/// One histogram's cells: per shard, the buckets (non-cumulative, `+Inf`
/// last), then the sum (f64 bits), then the count.
struct HistogramCells {
    cells: ShardedCells,
    buckets: usize,
}

/// A consistent reading of one histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Non-cumulative counts per bucket, `+Inf` last.
    pub buckets: Vec<u64>,
    /// The sum of the observed values.
    pub sum: f64,
    /// How many values were observed.
    pub count: u64,
}

impl HistogramCells {
    fn new(buckets: usize) -> HistogramCells {
        HistogramCells {
            cells: ShardedCells::new(buckets + 3, shard_count()),
            buckets: buckets + 1,
        }
    }

    #[inline]
    fn observe(&self, bucket: usize, v: f64) {
        let shard = current_shard();
        self.cells.cell(shard, bucket).fetch_add(1, Ordering::Relaxed);
        add_f64_bits(self.cells.cell(shard, self.buckets), v, Ordering::Release);
        self.cells.cell(shard, self.buckets + 1).fetch_add(1, Ordering::Release);
    }

    /// Visits each bucket's count (non-cumulative), then returns (sum, count),
    /// summed over consistent per-shard readings.
    fn read(&self, bucket_totals: &mut dyn FnMut(usize, u64)) -> (f64, u64) {
        let (mut sum, mut count) = (0.0, 0u64);
        for shard in 0..self.cells.shards() {
            let (s, c) = self.read_shard(shard, bucket_totals);
            sum += s;
            count += c;
        }
        (sum, count)
    }

    fn read_shard(&self, shard: usize, bucket_totals: &mut dyn FnMut(usize, u64)) -> (f64, u64) {
        let cell = |slot| self.cells.cell(shard, slot);
        let mut counts = [0u64; MAX_BUCKETS + 1];
        let counts = &mut counts[..self.buckets];
        for tries in 1.. {
            let count = cell(self.buckets + 1).load(Ordering::Acquire);
            let sum = f64::from_bits(cell(self.buckets).load(Ordering::Acquire));
            for (b, c) in counts.iter_mut().enumerate() {
                *c = cell(b).load(Ordering::Relaxed);
            }
            let total: u64 = counts.iter().sum();
            if total == count || tries >= SNAPSHOT_TRIES {
                // After too many tries, the bucket total stands in for the
                // count, so `+Inf` still equals `_count`.
                for (b, c) in counts.iter().enumerate() {
                    bucket_totals(b, *c);
                }
                return (sum, total);
            }
        }
        unreachable!("the loop returns by SNAPSHOT_TRIES")
    }

    /// No observation finished in any shard yet.
    fn is_empty(&self) -> bool {
        (0..self.cells.shards()).all(|shard| self.cells.cell(shard, self.buckets + 1).load(Ordering::Acquire) == 0)
    }

    fn snapshot(&self) -> HistogramSnapshot {
        let mut buckets = vec![0u64; self.buckets];
        let (sum, count) = self.read(&mut |b, v| buckets[b] += v);
        HistogramSnapshot { buckets, sum, count }
    }
}

/// Emits `_bucket{le}` (cumulative), `_sum` and `_count` for one series,
/// unless it has no observation yet and is not `always` shown (an empty
/// histogram is a dozen lines of zeros per scrape for nothing).
/// `series` carries the series' labels, `bucket_pairs` its labels with each
/// bucket's `le` as label pairs; `scratch` holds the per-bucket totals.
fn emit_series(
    cells: &HistogramCells,
    buckets: &Buckets,
    series: Sample<'_>,
    bucket_pairs: &[Box<str>],
    scratch: &mut [u64],
    always: bool,
    emit: &mut dyn FnMut(Sample<'_>),
) {
    // Most series of a route table are never observed: one load per shard
    // tells, where a full reading is every bucket of every shard.
    if !always && cells.is_empty() {
        return;
    }
    scratch.fill(0);
    let (sum, count) = cells.read(&mut |b, v| scratch[b] += v);
    if count == 0 && !always {
        return;
    }
    let mut cumulative = 0;
    for (b, (le, pairs)) in buckets.labels.iter().zip(bucket_pairs).enumerate() {
        cumulative += scratch[b];
        emit(Sample {
            suffix: "_bucket",
            extra_label: Some(("le", le)),
            encoded_labels: Some(pairs),
            value: Value::Int(cumulative),
            ..series
        });
    }
    emit(Sample {
        suffix: "_sum",
        value: Value::Float(sum),
        ..series
    });
    emit(Sample {
        suffix: "_count",
        value: Value::Int(count),
        ..series
    });
}

/// Most buckets a histogram may have (the scrape's scratch space is on the stack).
pub const MAX_BUCKETS: usize = 63;

/// A histogram without labels.
///
/// ```
/// use custom_metrics_app::metrics::{Buckets, Desc, Histogram, MetricType};
///
/// let desc = Desc::new("job_seconds", "Job durations.", MetricType::Histogram, &[]).unwrap();
/// let seconds = Histogram::new(desc, Buckets::new(&[0.1, 1.0]));
/// seconds.observe(0.05);
/// seconds.observe(0.5);
/// seconds.observe(7.0);
/// let snapshot = seconds.snapshot();
/// assert_eq!(snapshot.buckets, [1, 1, 1]); // le="0.1", le="1", le="+Inf"
/// assert_eq!((snapshot.sum, snapshot.count), (7.55, 3));
/// ```
pub struct Histogram {
    desc: Desc,
    buckets: Buckets,
    /// Each bucket's `le` as a label pair.
    bucket_pairs: Box<[Box<str>]>,
    cells: HistogramCells,
}

impl Histogram {
    /// `desc` must be of type histogram, with no label names; at most
    /// [`MAX_BUCKETS`] buckets.
    pub fn new(desc: Desc, buckets: Buckets) -> Histogram {
        assert_eq!(
            desc.metric_type(),
            MetricType::Histogram,
            "Histogram needs a histogram Desc"
        );
        assert!(
            desc.label_names().is_empty(),
            "use HistogramVec for labelled histograms"
        );
        assert!(buckets.bounds.len() <= MAX_BUCKETS, "too many buckets");
        let cells = HistogramCells::new(buckets.bounds.len());
        let bucket_pairs = buckets.labels.iter().map(|le| label_pairs([("le", &**le)])).collect();
        Histogram {
            desc,
            buckets,
            bucket_pairs,
            cells,
        }
    }

    /// Records `v` (NaN lands in `+Inf`).
    #[inline]
    pub fn observe(&self, v: f64) {
        self.cells.observe(self.buckets.index(v), v);
    }

    /// Buckets, sum and count of the same observations.
    pub fn snapshot(&self) -> HistogramSnapshot {
        self.cells.snapshot()
    }
}

impl Collector for Histogram {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let mut scratch = [0u64; MAX_BUCKETS + 1];
        emit_series(
            &self.cells,
            &self.buckets,
            Sample::new(&[], Value::Int(0)),
            &self.bucket_pairs,
            &mut scratch[..self.cells.buckets],
            true,
            emit,
        );
    }
}

/// A family of histograms with a closed, pre-declared set of label values;
/// a series is exposed from its first observation on.
///
/// ```
/// use custom_metrics_app::metrics::{encoding, Buckets, Desc, HistogramVec, MetricType, Registry};
/// use std::sync::Arc;
///
/// let desc = Desc::new("job_seconds", "Job durations.", MetricType::Histogram, &["queue"]).unwrap();
/// let seconds = Arc::new(HistogramVec::new(desc, Buckets::new(&[1.0]), &[&["fast"], &["slow"]]));
/// seconds.observe(0, 0.25);
///
/// let mut registry = Registry::new();
/// registry.register(seconds.clone()).unwrap();
/// let mut out = Vec::new();
/// encoding::text::encode(&registry, &mut out);
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.contains("job_seconds_bucket{queue=\"fast\",le=\"1\"} 1\n"));
/// assert!(!text.contains("slow")); // never observed
/// ```
pub struct HistogramVec {
    desc: Desc,
    buckets: Buckets,
    series: SeriesLabels,
    /// Per series, per bucket: the series' label pairs and `le`'s.
    bucket_pairs: Box<[Box<str>]>,
    cells: Box<[HistogramCells]>,
}

impl HistogramVec {
    /// `desc` must be of type histogram; `series[i]` holds the label values
    /// of series `i`; at most [`MAX_BUCKETS`] buckets.
    pub fn new(desc: Desc, buckets: Buckets, series: &[&[&str]]) -> HistogramVec {
        assert_eq!(
            desc.metric_type(),
            MetricType::Histogram,
            "HistogramVec needs a histogram Desc"
        );
        assert!(buckets.bounds.len() <= MAX_BUCKETS, "too many buckets");
        let labels = SeriesLabels::new(&desc, series);
        let bucket_pairs = (0..series.len())
            .flat_map(|i| {
                let (labels, names) = (&labels, desc.label_names());
                buckets
                    .labels
                    .iter()
                    .map(move |le| labels.pairs_with(i, names, ("le", le)))
            })
            .collect();
        HistogramVec {
            cells: series
                .iter()
                .map(|_| HistogramCells::new(buckets.bounds.len()))
                .collect(),
            series: labels,
            bucket_pairs,
            buckets,
            desc,
        }
    }

    /// Records `v` in series `index` (its position in `new`'s `series`).
    #[inline]
    pub fn observe(&self, index: usize, v: f64) {
        self.cells[index].observe(self.buckets.index(v), v);
    }

    /// Buckets, sum and count of series `index`.
    pub fn snapshot(&self, index: usize) -> HistogramSnapshot {
        self.cells[index].snapshot()
    }

    /// The buckets every series shares.
    pub fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

impl Collector for HistogramVec {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let mut scratch = [0u64; MAX_BUCKETS + 1];
        for (i, cells) in self.cells.iter().enumerate() {
            let series = self.series.sample(i, Value::Int(0));
            let pairs = &self.bucket_pairs[i * cells.buckets..][..cells.buckets];
            emit_series(
                cells,
                &self.buckets,
                series,
                pairs,
                &mut scratch[..cells.buckets],
                false,
                emit,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn hist() -> Histogram {
        Histogram::new(
            Desc::new("h", "", MetricType::Histogram, &[]).unwrap(),
            Buckets::new(&[0.1, 1.0, 10.0]),
        )
    }

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let h = hist();
        for v in [0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 11.0, f64::INFINITY, f64::NAN, -3.0] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![3, 2, 2, 3]);
        assert_eq!(s.count, 10);
        assert!(s.sum.is_nan());
    }

    #[test]
    fn le_labels() {
        let b = Buckets::new(&[0.000001, 0.0005, 1.0, 2.5]);
        assert_eq!(
            &*b.labels.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            ["1e-6", "0.0005", "1", "2.5", "+Inf"]
        );
    }

    #[test]
    #[should_panic(expected = "increase")]
    fn rejects_unsorted_bounds() {
        Buckets::new(&[1.0, 0.5]);
    }

    #[test]
    fn collect_is_cumulative() {
        let h = hist();
        h.observe(0.5);
        h.observe(20.0);
        let mut out = Vec::new();
        h.collect(&mut |s| out.push((s.suffix.to_string(), s.extra_label.map(|l| l.1.to_string()), s.value)));
        assert_eq!(
            out,
            vec![
                ("_bucket".into(), Some("0.1".into()), Value::Int(0)),
                ("_bucket".into(), Some("1".into()), Value::Int(1)),
                ("_bucket".into(), Some("10".into()), Value::Int(1)),
                ("_bucket".into(), Some("+Inf".into()), Value::Int(2)),
                ("_sum".into(), None, Value::Float(20.5)),
                ("_count".into(), None, Value::Int(2)),
            ]
        );
    }

    #[test]
    fn snapshots_stay_consistent_under_concurrent_observes() {
        let h = Arc::new(hist());
        let stop = Arc::new(AtomicBool::new(false));
        // Four writers on two shards: shards shared between threads, the hard case.
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (h, stop) = (h.clone(), stop.clone());
                std::thread::spawn(move || {
                    crate::metrics::set_current_shard(t % 2);
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        h.observe([0.05, 0.5, 5.0, 50.0][(n % 4) as usize]);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut last_count = 0;
        for _ in 0..2_000 {
            let mut out = Vec::new();
            h.collect(&mut |s| out.push(s.value));
            let counts: Vec<u64> = out
                .iter()
                .filter_map(|v| match v {
                    Value::Int(c) => Some(*c),
                    _ => None,
                })
                .collect();
            let (buckets, count) = (&counts[..4], counts[4]);
            assert!(
                buckets.windows(2).all(|w| w[0] <= w[1]),
                "cumulative buckets: {buckets:?}"
            );
            assert_eq!(buckets[3], count, "+Inf bucket equals _count");
            assert!(count >= last_count, "count never goes back");
            last_count = count;
        }
        stop.store(true, Ordering::Relaxed);
        let total: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        let s = h.snapshot();
        assert_eq!(s.count, total);
        assert_eq!(s.buckets.iter().sum::<u64>(), total);
    }
}
