//! `Gauge` and `GaugeVec`: `f64` values stored as bits in an `AtomicU64`.

use std::sync::atomic::{AtomicU64, Ordering};

use super::desc::{Desc, MetricType};
use super::registry::{Collector, Sample, Value};
use super::series::SeriesLabels;

/// An `f64` that can be set and adjusted from any thread without a lock
/// (0.0 by default): what a [`Gauge`] holds, and a building block for a
/// hand-written [`Collector`].
///
/// ```
/// use custom_metrics_app::metrics::AtomicF64;
///
/// let celsius = AtomicF64::new(20.0);
/// assert_eq!(celsius.add(1.5), 21.5);
/// celsius.set(-3.0);
/// assert_eq!(celsius.get(), -3.0);
/// ```
#[derive(Debug, Default)]
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    /// Holds `v`.
    pub fn new(v: f64) -> AtomicF64 {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    /// The value.
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `delta` atomically and returns the new value.
    pub fn add(&self, delta: f64) -> f64 {
        add_f64_bits(&self.0, delta, Ordering::Relaxed)
    }
}

/// Adds `delta` to the `f64` whose bits `cell` holds, with a compare-and-swap
/// loop (concurrent adds are never lost; `success` orders the winning
/// store), and returns the new value. Shared with the histogram's sum.
pub(super) fn add_f64_bits(cell: &AtomicU64, delta: f64, success: Ordering) -> f64 {
    let mut old = cell.load(Ordering::Relaxed);
    loop {
        let new = f64::from_bits(old) + delta;
        match cell.compare_exchange_weak(old, new.to_bits(), success, Ordering::Relaxed) {
            Ok(_) => return new,
            Err(actual) => old = actual,
        }
    }
}

/// A single value that can go up and down.
///
/// ```
/// use custom_metrics_app::metrics::{Desc, Gauge, MetricType};
///
/// let desc = Desc::new("room_celsius", "Room temperature.", MetricType::Gauge, &[]).unwrap();
/// let room = Gauge::new(desc);
/// room.set(21.0);
/// assert_eq!(room.sub(0.5), 20.5);
/// ```
pub struct Gauge {
    desc: Desc,
    value: AtomicF64,
}

impl Gauge {
    /// `desc` must be of type gauge and have no label names.
    pub fn new(desc: Desc) -> Gauge {
        assert_eq!(desc.metric_type(), MetricType::Gauge, "Gauge needs a gauge Desc");
        assert!(desc.label_names().is_empty(), "use GaugeVec for labelled gauges");
        Gauge {
            desc,
            value: AtomicF64::new(0.0),
        }
    }

    /// The value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }

    /// Replaces the value.
    pub fn set(&self, v: f64) {
        self.value.set(v);
    }

    /// Adds `delta` and returns the new value.
    pub fn add(&self, delta: f64) -> f64 {
        self.value.add(delta)
    }

    /// Subtracts `delta` and returns the new value.
    pub fn sub(&self, delta: f64) -> f64 {
        self.value.add(-delta)
    }
}

impl Collector for Gauge {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        emit(Sample::new(&[], Value::Float(self.get())));
    }
}

/// A family of gauges with a closed, pre-declared set of label values,
/// every one of them exposed (from 0.0).
///
/// ```
/// use custom_metrics_app::metrics::{Desc, GaugeVec, MetricType};
///
/// let desc = Desc::new("queue_depth", "Jobs waiting.", MetricType::Gauge, &["queue"]).unwrap();
/// let depth = GaugeVec::new(desc, &[&["fast"], &["slow"]]);
/// depth.add(1, 3.0);
/// depth.sub(1, 1.0);
/// assert_eq!((depth.get(0), depth.get(1)), (0.0, 2.0));
/// ```
pub struct GaugeVec {
    desc: Desc,
    series: SeriesLabels,
    values: Box<[AtomicF64]>,
}

impl GaugeVec {
    /// `desc` must be of type gauge; `series[i]` holds the label values of
    /// series `i`, in the order of its label names.
    pub fn new(desc: Desc, series: &[&[&str]]) -> GaugeVec {
        assert_eq!(desc.metric_type(), MetricType::Gauge, "GaugeVec needs a gauge Desc");
        GaugeVec {
            series: SeriesLabels::new(&desc, series),
            values: series.iter().map(|_| AtomicF64::new(0.0)).collect(),
            desc,
        }
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it was built with no series.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of series `index`.
    pub fn get(&self, index: usize) -> f64 {
        self.values[index].get()
    }

    /// Replaces the value of series `index`.
    pub fn set(&self, index: usize, v: f64) {
        self.values[index].set(v);
    }

    /// Adds `delta` to series `index` and returns its new value.
    pub fn add(&self, index: usize, delta: f64) -> f64 {
        self.values[index].add(delta)
    }

    /// Subtracts `delta` from series `index` and returns its new value.
    pub fn sub(&self, index: usize, delta: f64) -> f64 {
        self.values[index].add(-delta)
    }
}

impl Collector for GaugeVec {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        for (i, v) in self.values.iter().enumerate() {
            emit(self.series.sample(i, Value::Float(v.get())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn gauge_set_add_sub() {
        let g = Gauge::new(Desc::new("t", "", MetricType::Gauge, &[]).unwrap());
        g.set(50.0);
        assert_eq!(g.add(10.0), 60.0);
        assert_eq!(g.sub(25.5), 34.5);
        g.set(f64::NEG_INFINITY);
        assert_eq!(g.get(), f64::NEG_INFINITY);
    }

    #[test]
    fn concurrent_adds_are_not_lost() {
        let v = Arc::new(AtomicF64::new(0.0));
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let v = v.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        v.add(1.0);
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(v.get(), 40_000.0);
    }

    #[test]
    fn gauge_vec_indexes_series() {
        let d = Desc::new("z", "", MetricType::Gauge, &["zone"]).unwrap();
        let g = GaugeVec::new(d, &[&["a"], &["b"]]);
        g.set(1, -3.5);
        g.add(0, 2.0);
        let mut seen = Vec::new();
        g.collect(&mut |s| seen.push((s.label_values[0].to_string(), s.value)));
        assert_eq!(
            seen,
            vec![("a".into(), Value::Float(2.0)), ("b".into(), Value::Float(-3.5))]
        );
    }
}
