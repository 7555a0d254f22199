//! Encoders that walk a [`Registry`](super::Registry) and write an exposition
//! format into a caller-owned, reused byte buffer.

mod number;
pub mod openmetrics;
pub mod text;

pub use number::{write_f64, write_u64};

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
