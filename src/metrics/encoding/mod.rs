//! Encoders that walk a [`Registry`] and write an exposition
//! format into a caller-owned, reused byte buffer: once the buffer has grown
//! to the size of a full exposition, encoding allocates nothing.
//!
//! ```
//! use custom_metrics_app::metrics::encoding::{self, Format};
//! use custom_metrics_app::metrics::{Counter, Desc, MetricType, Registry};
//! use std::sync::Arc;
//!
//! let desc = Desc::new("jobs_done_total", "Jobs done.", MetricType::Counter, &[]).unwrap();
//! let mut registry = Registry::new();
//! registry.register(Arc::new(Counter::new(desc))).unwrap();
//!
//! let mut out = Vec::new();
//! encoding::encode(&registry, Format::OpenMetrics, &mut out);
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with("# TYPE jobs_done counter\n# HELP jobs_done Jobs done.\n"));
//! assert!(text.ends_with("jobs_done_total 0\n# EOF\n"));
//! assert!(Format::OpenMetrics.content_type().starts_with("application/openmetrics-text"));
//! ```

mod number;
pub mod openmetrics;
pub mod text;

pub(crate) use number::write_f64;
pub(crate) use text::label_pairs;

use super::Registry;

/// The exposition formats this crate writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text format.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` a response carrying this format says.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => text::CONTENT_TYPE,
            Format::OpenMetrics => openmetrics::CONTENT_TYPE,
        }
    }
}

/// Appends `registry`'s exposition in `format` to `out`.
pub fn encode(registry: &Registry, format: Format, out: &mut Vec<u8>) {
    match format {
        Format::Text => text::encode(registry, out),
        Format::OpenMetrics => openmetrics::encode(registry, out),
    }
}
