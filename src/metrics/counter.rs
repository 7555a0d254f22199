//! `Counter` and `CounterVec`: monotonic integer counts on sharded cells.
//!
//! A `CounterVec`'s series (label value sets) are fixed when it is built, so
//! the hot path reaches a series by index: no string hashing, no lock, no
//! allocation, and no request can create a new series.

use super::desc::{Desc, MetricType};
use super::registry::{Collector, Sample, Value};
use super::shard::{shard_count, ShardedCells};

/// A single monotonic counter.
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

    #[inline]
    pub fn inc(&self) {
        self.cells.add(0, 1);
    }

    #[inline]
    pub fn inc_by(&self, v: u64) {
        self.cells.add(0, v);
    }

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
pub struct CounterVec {
    desc: Desc,
    series: Box<[Box<[Box<str>]>]>,
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
        for values in series {
            assert_eq!(values.len(), desc.label_names().len(), "label value count mismatch");
        }
        CounterVec {
            cells: ShardedCells::new(series.len(), shard_count()),
            series: series
                .iter()
                .map(|vs| vs.iter().map(|v| Box::<str>::from(*v)).collect())
                .collect(),
            shown_when_zero: (0..series.len()).map(shown_when_zero).collect(),
            desc,
        }
    }

    pub fn len(&self) -> usize {
        self.cells.slots()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Increments series `index` (the position it had in `new`'s `series`).
    #[inline]
    pub fn inc(&self, index: usize) {
        self.cells.add(index, 1);
    }

    pub fn get(&self, index: usize) -> u64 {
        self.cells.get(index)
    }

    /// Looks a series up by its label values (linear scan: tests and tooling only).
    pub fn index_of(&self, values: &[&str]) -> Option<usize> {
        self.series
            .iter()
            .position(|s| s.len() == values.len() && s.iter().zip(values).all(|(a, b)| &**a == *b))
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
        for (i, values) in self.series.iter().enumerate() {
            let v = self.get(i);
            if v != 0 || self.shown_when_zero[i] {
                emit(Sample::new(values, Value::Int(v)));
            }
        }
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
