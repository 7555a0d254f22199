//! Real temperature sensors from sysfs: thermal zones (`/sys/class/thermal`)
//! and hwmon chips (`/sys/class/hwmon`), sampled off the request path.
//!
//! How the parts fit:
//! - `thermal` and `hwmon` list the sensors under a root (any directory, so
//!   tests drive everything with fake trees);
//! - a `SensorSet` holds them, rebuilt by rescans and published behind one
//!   pointer;
//! - the [`Sampler`] reads them every interval through the `reader_pool`,
//!   which keeps a hanging read from stalling anything else; each sensor's
//!   `Reading` holds its latest good value, stamped with its pass, and a
//!   value older than the latest judged pass is stale: the sensor is down;
//! - a [`Selection`] says which of them feed `cpu_temperature_celsius`;
//! - [`SensorTemperature`] and the [`exposition`] collectors compute the
//!   metrics from the fresh values at scrape time, without touching sysfs.
//!
//! The `sysinfo` crate is not used: it reads hwmon at the fixed path
//! `/sys/class/hwmon` (no root to point at a fake tree or a mounted host
//! directory) and reopens several files per sensor on every refresh, while
//! the hwmon layout it would discover is three kinds of file.

mod attributes;
pub mod exposition;
mod hwmon;
mod reader_pool;
pub mod reading;
mod sampler;
mod selection;
mod sensor;
mod sensor_set;
mod source;
#[cfg(test)]
#[path = "../../../tests/common/fake_sysfs.rs"]
pub(crate) mod test_dir;
mod thermal;

pub use reader_pool::{PassReport, MAX_READERS, RESIDENT_READERS};
pub use sampler::{Sampler, SamplerConfig, SamplerOutput, SensorCounts, READ_ERRORS_NAME, RESCAN_EVERY};
pub use selection::{HwmonSelector, Selection, ThermalSelector};
pub use sensor::SensorKind;
pub use source::SensorTemperature;
