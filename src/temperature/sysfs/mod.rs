//! Real temperature sensors from sysfs: thermal zones (`/sys/class/thermal`)
//! and hwmon chips (`/sys/class/hwmon`), sampled off the request path
//! (docs/sensors.md describes the behaviour, and why not the `sysinfo` crate).
//!
//! - a [`SamplerConfig`] is all this layer is given: the roots, the
//!   interval, and the read deadline that follows from it;
//! - `scan` lists the sensors under a root (any directory, so tests drive
//!   everything with fake trees) into a `SensorSet`, rebuilt by rescans and
//!   published behind one pointer;
//! - with them, the zones' trip points (`trips`) and the throttling files
//!   (`throttle_scan`: cooling devices, Intel throttle counters, the
//!   Raspberry Pi firmware's flags), read with the same rules
//!   (`attribute`);
//! - the [`Sampler`] reads them every interval on reader threads, which keep
//!   a hanging read from stalling anything else; a sensor is down when its
//!   latest good value is older than the latest judged pass;
//! - a [`Selection`] says which of them feed `cpu_temperature_celsius`;
//! - [`SensorTemperature`] and the collectors of [`exposition`],
//!   [`trip_exposition`] and [`throttle_exposition`] compute the metrics
//!   from the fresh values at scrape time, without touching sysfs;
//!   [`collectors`] lists them all for the registry.

mod attribute;
mod config;
pub(crate) mod exposition;
mod families;
mod sampler;
mod scan;
mod selection;
mod sensor;
mod sensor_set;
pub(crate) mod throttle_exposition;
mod throttle_scan;
pub(crate) mod trip_exposition;
mod trips;

pub use config::SamplerConfig;
pub(crate) use exposition::SensorTemperature;
pub use families::collectors;
pub use sampler::{Sampler, RESIDENT_READERS};
pub(crate) use selection::HwmonSelector;
pub use selection::{Selection, ThermalSelector};
pub use sensor::SensorKind;
