//! Real temperature sensors from sysfs: thermal zones (`/sys/class/thermal`)
//! and hwmon chips (`/sys/class/hwmon`), sampled off the request path
//! (docs/sensors.md describes the behaviour, and why not the `sysinfo` crate).
//!
//! - `thermal` and `hwmon` list the sensors under a root (any directory, so
//!   tests drive everything with fake trees) into a `SensorSet`, rebuilt by
//!   rescans and published behind one pointer;
//! - the [`Sampler`] reads them every interval through the `reader_pool`,
//!   which keeps a hanging read from stalling anything else; a sensor is
//!   down when its latest good `Reading` is older than the latest judged pass;
//! - a [`Selection`] says which of them feed `cpu_temperature_celsius`;
//! - [`SensorTemperature`] and the [`exposition`] collectors compute the
//!   metrics from the fresh values at scrape time, without touching sysfs.

mod attributes;
pub(crate) mod exposition;
mod hwmon;
mod reader_pool;
pub(crate) mod reading;
mod sampler;
mod selection;
mod sensor;
mod sensor_set;
mod source;
#[cfg(test)]
#[path = "../../../tests/common/fake_sysfs.rs"]
pub(crate) mod test_dir;
mod thermal;

pub use reader_pool::RESIDENT_READERS;
pub use sampler::{Sampler, SamplerConfig};
pub(crate) use selection::HwmonSelector;
pub use selection::{Selection, ThermalSelector};
pub use sensor::SensorKind;
pub(crate) use source::SensorTemperature;
