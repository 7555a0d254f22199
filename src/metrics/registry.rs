//! `Collector`, `Sample` and the `Registry` that keeps collectors in
//! registration order for an encoder to walk.

use std::fmt;
use std::sync::Arc;

use super::desc::Desc;

/// A sample value: counters are integers, gauges are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

/// One sample of a metric family, borrowed from the collector while it is emitted.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Appended to the family name (`_bucket`, `_sum`, …); empty for plain metrics.
    pub suffix: &'a str,
    /// Values for the Desc's label names, in the same order.
    pub label_values: &'a [Box<str>],
    /// A label beyond the Desc's (a histogram bucket's `le`).
    pub extra_label: Option<(&'a str, &'a str)>,
    pub value: Value,
}

impl<'a> Sample<'a> {
    pub fn new(label_values: &'a [Box<str>], value: Value) -> Sample<'a> {
        Sample {
            suffix: "",
            label_values,
            extra_label: None,
            value,
        }
    }
}

/// Something that can report the current samples of one metric family.
///
/// `collect` hands samples to a callback instead of returning a collection,
/// so a scrape allocates nothing.
pub trait Collector: Send + Sync {
    fn desc(&self) -> &Desc;
    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>));
}

/// Why a collector could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterError {
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
#[derive(Default)]
pub struct Registry {
    collectors: Vec<Arc<dyn Collector>>,
}

impl Registry {
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
