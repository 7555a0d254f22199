//! Lock-free Prometheus metric types, a registry, and the text encoder.
//!
//! Layering follows prometheus/client_rust: the metric types (`Counter`,
//! `CounterVec`, `Gauge`, `GaugeVec`) only hold numbers and know nothing of
//! encoding; a [`Registry`] keeps collectors in registration order; the
//! [`encoding`] module walks a registry and writes bytes. Nothing in here knows
//! about HTTP or sockets.

mod counter;
mod desc;
pub mod encoding;
mod gauge;
mod histogram;
mod process;
mod registry;
mod series;
mod shard;

pub use counter::{Counter, CounterVec};
pub use desc::{Desc, DescError, MetricType};
pub use gauge::{AtomicF64, Gauge, GaugeVec};
pub use histogram::{Buckets, Histogram, HistogramSnapshot, HistogramVec, MAX_BUCKETS};
pub use process::register_process_metrics;
pub use registry::{Collector, RegisterError, Registry, Sample, Value};
pub use shard::{set_current_shard, set_shard_count};
