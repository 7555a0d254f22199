//! `Counter` and `CounterVec`: monotonic integer counts on sharded cells.
//!
//! A `CounterVec`'s series (label value sets) are fixed when it is built, so
//! the hot path reaches a series by index: no string hashing, no lock, no
//! allocation, and no request can create a new series.

use super::desc::{Desc, MetricType};
use super::registry::{Collector, Sample, Value};
use super::series::SeriesLabels;
use super::shard::{shard_count, ShardedCells};

/// A single monotonic counter.
///
/// Increments go to the calling thread's shard (see
/// [`set_current_shard`](super::set_current_shard)); a read sums the shards.
///
/// ```
/// use custom_metrics_app::metrics::{Counter, Desc, MetricType};
///
/// let desc = Desc::new("http_requests_total", "Requests served.", MetricType::Counter, &[]).unwrap();
/// let requests = Counter::new(desc);
/// requests.inc();
/// requests.inc_by(2);
/// assert_eq!(requests.get(), 3);
/// ```
pub struct Counter {
    desc: Desc,
    cells: ShardedCells,
}

impl Counter {
    /// `desc` must be of type counter and have no label names.
    pub fn new(desc: Desc) -> Counter {
        assert_eq!(desc.metric_type(), MetricType::Counter, "Counter needs a counter Desc");
        assert!(desc.label_names().is_empty(), "use CounterVec for labelled counters");
        Counter {
            desc,
            cells: ShardedCells::new(1, shard_count()),
        }
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.cells.add(0, 1);
    }

    /// Adds `v`.
    #[inline]
    pub fn inc_by(&self, v: u64) {
        self.cells.add(0, v);
    }

    /// The count: the sum over every shard (wrapping, as a `u64` does).
    pub fn get(&self) -> u64 {
        self.cells.get(0)
    }
}

impl Collector for Counter {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        emit(Sample::new(&[], Value::Int(self.get())));
    }
}

/// A family of counters with a closed, pre-declared set of label values.
///
/// ```
/// use custom_metrics_app::metrics::{encoding, CounterVec, Desc, MetricType, Registry};
/// use std::sync::Arc;
///
/// let desc = Desc::new("jobs_total", "Jobs by outcome.", MetricType::Counter, &["outcome"]).unwrap();
/// // Series 0 is shown from the start; series 1 only once it has counted.
/// let jobs = Arc::new(CounterVec::new(desc, &[&["ok"], &["failed"]], |i| i == 0));
/// jobs.inc(0);
/// assert_eq!(jobs.index_of(&["failed"]), Some(1));
///
/// let mut registry = Registry::new();
/// registry.register(jobs.clone()).unwrap();
/// let mut out = Vec::new();
/// encoding::text::encode(&registry, &mut out);
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.contains("jobs_total{outcome=\"ok\"} 1\n"));
/// assert!(!text.contains("failed"));
/// ```
pub struct CounterVec {
    desc: Desc,
    series: SeriesLabels,
    /// Series exposed even while zero; others appear once they are non-zero
    /// (a counter never goes back to zero, so a series never disappears).
    shown_when_zero: Box<[bool]>,
    cells: ShardedCells,
}

impl CounterVec {
    /// `series[i]` holds the label values of series `i`, in the order of the
    /// Desc's label names; `shown_when_zero(i)` says whether series `i` is
    /// exposed before its first increment.
    pub fn new(desc: Desc, series: &[&[&str]], shown_when_zero: impl Fn(usize) -> bool) -> CounterVec {
        assert_eq!(
            desc.metric_type(),
            MetricType::Counter,
            "CounterVec needs a counter Desc"
        );
        CounterVec {
            cells: ShardedCells::new(series.len(), shard_count()),
            series: SeriesLabels::new(&desc, series),
            shown_when_zero: (0..series.len()).map(shown_when_zero).collect(),
            desc,
        }
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.cells.slots()
    }

    /// Whether it was built with no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Increments series `index` (the position it had in `new`'s `series`).
    #[inline]
    pub fn inc(&self, index: usize) {
        self.cells.add(index, 1);
    }

    /// The count of series `index`.
    pub fn get(&self, index: usize) -> u64 {
        self.cells.get(index)
    }

    /// Looks a series up by its label values (linear scan: tests and tooling only).
    pub fn index_of(&self, values: &[&str]) -> Option<usize> {
        self.series.index_of(values)
    }

    /// Sum over every series.
    pub fn total(&self) -> u64 {
        (0..self.len()).map(|i| self.get(i)).fold(0, u64::wrapping_add)
    }
}

impl Collector for CounterVec {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        self.cells.for_each_total(|i, v| {
            if v != 0 || self.shown_when_zero[i] {
                emit(self.series.sample(i, Value::Int(v)));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec() -> CounterVec {
        let desc = Desc::new("reqs", "h", MetricType::Counter, &["code"]).unwrap();
        CounterVec::new(desc, &[&["200"], &["500"]], |i| i == 0)
    }

    #[test]
    fn counts_by_index_and_hides_zero_series() {
        let v = vec();
        let collect = |v: &CounterVec| {
            let mut out = Vec::new();
            v.collect(&mut |s| out.push((s.label_values[0].to_string(), s.value)));
            out
        };
        assert_eq!(collect(&v), vec![("200".to_string(), Value::Int(0))]);
        v.inc(1);
        v.inc(1);
        v.inc(0);
        assert_eq!(v.get(1), 2);
        assert_eq!(v.total(), 3);
        assert_eq!(v.index_of(&["500"]), Some(1));
        assert_eq!(v.index_of(&["404"]), None);
        assert_eq!(
            collect(&v),
            vec![("200".to_string(), Value::Int(1)), ("500".to_string(), Value::Int(2))]
        );
    }

    #[test]
    fn counter_counts() {
        let c = Counter::new(Desc::new("c", "", MetricType::Counter, &[]).unwrap());
        c.inc();
        c.inc_by(41);
        assert_eq!(c.get(), 42);
    }

    #[test]
    #[should_panic(expected = "label value count mismatch")]
    fn rejects_wrong_label_count() {
        let desc = Desc::new("reqs", "h", MetricType::Counter, &["code"]).unwrap();
        CounterVec::new(desc, &[&["200", "x"]], |_| true);
    }
}
