//! `Collector`, `Sample` and the `Registry` that keeps collectors in
//! registration order for an encoder to walk.

use std::fmt;
use std::sync::Arc;

use super::desc::Desc;

/// A sample value: counters are integers, gauges are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// Written as an integer.
    Int(u64),
    /// Written as Prometheus writes floats (`+Inf`, `NaN`, shortest form).
    Float(f64),
}

/// One sample of a metric family, borrowed from the collector while it is emitted.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Appended to the family name (`_bucket`, `_sum`, …); empty for plain metrics.
    pub suffix: &'a str,
    /// Values for the Desc's label names, in the same order.
    pub label_values: &'a [Box<str>],
    /// All of the sample's labels (`label_values`, then `extra_label`)
    /// already written as the exposition's label pairs (`a="x",le="1"`,
    /// escaped), for the encoders to copy; `None` has them write the pairs.
    pub encoded_labels: Option<&'a str>,
    /// A label beyond the Desc's (a histogram bucket's `le`).
    pub extra_label: Option<(&'a str, &'a str)>,
    /// The value.
    pub value: Value,
}

impl<'a> Sample<'a> {
    /// A plain sample: no suffix, no extra label.
    pub fn new(label_values: &'a [Box<str>], value: Value) -> Sample<'a> {
        Sample {
            suffix: "",
            label_values,
            encoded_labels: None,
            extra_label: None,
            value,
        }
    }
}

/// Something that can report the current samples of one metric family.
///
/// `collect` hands samples to a callback instead of returning a collection,
/// so a scrape allocates nothing. Implement it for a metric whose value is
/// computed at scrape time:
///
/// ```
/// use custom_metrics_app::metrics::{encoding, Collector, Desc, MetricType, Registry, Sample, Value};
/// use std::sync::Arc;
///
/// struct Uptime { desc: Desc, started: std::time::Instant }
///
/// impl Collector for Uptime {
///     fn desc(&self) -> &Desc {
///         &self.desc
///     }
///     fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
///         emit(Sample::new(&[], Value::Float(self.started.elapsed().as_secs_f64())));
///     }
/// }
///
/// let desc = Desc::new("uptime_seconds", "Seconds since start.", MetricType::Gauge, &[]).unwrap();
/// let mut registry = Registry::new();
/// registry.register(Arc::new(Uptime { desc, started: std::time::Instant::now() })).unwrap();
/// let mut out = Vec::new();
/// encoding::text::encode(&registry, &mut out);
/// assert!(String::from_utf8(out).unwrap().contains("# TYPE uptime_seconds gauge\n"));
/// ```
pub trait Collector: Send + Sync {
    /// The family's name, help, type and label names.
    fn desc(&self) -> &Desc;
    /// Hands each current sample to `emit`, label values in the order of
    /// [`Desc::label_names`].
    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>));
}

/// Why a collector could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterError {
    /// The name already taken.
    pub name: String,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a metric named {:?} is already registered", self.name)
    }
}

impl std::error::Error for RegisterError {}

/// Collectors in registration order. Built at start-up, read-only afterwards,
/// so scrapes take no lock.
///
/// ```
/// use custom_metrics_app::metrics::{Desc, Gauge, MetricType, Registry};
/// use std::sync::Arc;
///
/// let gauge = |name: &str| Arc::new(Gauge::new(Desc::new(name, "", MetricType::Gauge, &[]).unwrap()));
/// let mut registry = Registry::new();
/// registry.register(gauge("a")).unwrap();
/// // One family per name, or the exposition would be invalid.
/// assert!(registry.register(gauge("a")).is_err());
/// assert_eq!(registry.collectors().count(), 1);
/// ```
#[derive(Default)]
pub struct Registry {
    collectors: Vec<Arc<dyn Collector>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a collector; two families with one name would make an invalid exposition.
    pub fn register(&mut self, collector: Arc<dyn Collector>) -> Result<(), RegisterError> {
        let name = collector.desc().name();
        if self.collectors.iter().any(|c| c.desc().name() == name) {
            return Err(RegisterError { name: name.to_owned() });
        }
        self.collectors.push(collector);
        Ok(())
    }

    /// The collectors, in registration order.
    pub fn collectors(&self) -> impl Iterator<Item = &dyn Collector> {
        self.collectors.iter().map(|c| &**c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Gauge, MetricType};

    #[test]
    fn keeps_order_and_rejects_duplicates() {
        let g = |n: &str| Arc::new(Gauge::new(Desc::new(n, "", MetricType::Gauge, &[]).unwrap()));
        let mut r = Registry::new();
        r.register(g("b")).unwrap();
        r.register(g("a")).unwrap();
        assert_eq!(r.register(g("b")), Err(RegisterError { name: "b".into() }));
        let names: Vec<_> = r.collectors().map(|c| c.desc().name().to_owned()).collect();
        assert_eq!(names, ["b", "a"]);
    }
}
