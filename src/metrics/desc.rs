//! `Desc`: the immutable metadata of a metric family (name, help, type, label names).

use std::fmt;

/// The `# TYPE` of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// A monotonic count (`counter`).
    Counter,
    /// A value that goes up and down (`gauge`).
    Gauge,
    /// Bucketed observations with `_bucket`, `_sum` and `_count` samples.
    Histogram,
    /// No type promised (`untyped`; `unknown` in OpenMetrics).
    Unknown,
}

impl MetricType {
    /// The word used on a `# TYPE` line of the text format.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Unknown => "untyped",
        }
    }
}

/// Immutable metadata shared by every series of one metric family.
///
/// ```
/// use custom_metrics_app::metrics::{Desc, DescError, MetricType};
///
/// let desc = Desc::new("queue_depth", "Jobs waiting.", MetricType::Gauge, &["queue"]).unwrap();
/// assert_eq!(desc.label_names().len(), 1);
/// // `le` belongs to histogram buckets.
/// let err = Desc::new("x", "", MetricType::Gauge, &["le"]).unwrap_err();
/// assert_eq!(err, DescError::InvalidLabelName("le".into()));
/// ```
#[derive(Debug, Clone)]
pub struct Desc {
    name: Box<str>,
    help: Box<str>,
    metric_type: MetricType,
    label_names: Box<[Box<str>]>,
}

/// Why a [`Desc`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescError {
    /// The name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName(String),
    /// The label name is not `[a-zA-Z_][a-zA-Z0-9_]*`, starts with `__`, or
    /// is `le` or `quantile`.
    InvalidLabelName(String),
    /// The label name is given twice.
    DuplicateLabelName(String),
}

impl fmt::Display for DescError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescError::InvalidMetricName(n) => write!(f, "invalid metric name {n:?}"),
            DescError::InvalidLabelName(n) => write!(f, "invalid label name {n:?}"),
            DescError::DuplicateLabelName(n) => write!(f, "duplicate label name {n:?}"),
        }
    }
}

impl std::error::Error for DescError {}

impl Desc {
    /// Validates the names against the Prometheus data model.
    pub fn new(name: &str, help: &str, metric_type: MetricType, label_names: &[&str]) -> Result<Desc, DescError> {
        if !is_metric_name(name) {
            return Err(DescError::InvalidMetricName(name.to_owned()));
        }
        for (i, label) in label_names.iter().enumerate() {
            // `le` and `quantile` are reserved for histogram/summary samples.
            if !is_label_name(label) || *label == "le" || *label == "quantile" {
                return Err(DescError::InvalidLabelName((*label).to_owned()));
            }
            if label_names[..i].contains(label) {
                return Err(DescError::DuplicateLabelName((*label).to_owned()));
            }
        }
        Ok(Desc {
            name: name.into(),
            help: help.into(),
            metric_type,
            label_names: label_names.iter().map(|l| Box::<str>::from(*l)).collect(),
        })
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `# HELP` text, unescaped.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The `# TYPE`.
    pub fn metric_type(&self) -> MetricType {
        self.metric_type
    }

    /// The label names, in the order series give their values.
    pub fn label_names(&self) -> &[Box<str>] {
        &self.label_names
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    !s.starts_with("__")
        && matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        let d = Desc::new("total_req_num", "h", MetricType::Counter, &["status", "api"]).unwrap();
        assert_eq!(d.name(), "total_req_num");
        assert_eq!(d.label_names().len(), 2);
        assert!(Desc::new("a:b_c9", "", MetricType::Gauge, &[]).is_ok());
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in ["", "9abc", "a-b", "a b", "é"] {
            assert_eq!(
                Desc::new(bad, "", MetricType::Gauge, &[]).unwrap_err(),
                DescError::InvalidMetricName(bad.into())
            );
        }
        for bad in ["", "__x", "a:b", "le", "1a"] {
            assert!(matches!(
                Desc::new("m", "", MetricType::Gauge, &[bad]),
                Err(DescError::InvalidLabelName(_))
            ));
        }
        assert_eq!(
            Desc::new("m", "", MetricType::Gauge, &["a", "a"]).unwrap_err(),
            DescError::DuplicateLabelName("a".into())
        );
    }
}
