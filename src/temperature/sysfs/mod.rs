//! Real temperature sensors from sysfs: thermal zones (`/sys/class/thermal`)
//! and hwmon chips (`/sys/class/hwmon`), sampled off the request path
//! (docs/sensors.md describes the behaviour, and why not the `sysinfo` crate).
//!
//! - `scan` lists the sensors under a root (any directory, so tests drive
//!   everything with fake trees) into a `SensorSet`, rebuilt by rescans and
//!   published behind one pointer;
//! - with them, the zones' trip points (`trips`) and the throttling files
//!   (`throttle_scan`: cooling devices, Intel throttle counters, the
//!   Raspberry Pi firmware's flags), read with the same rules;
//! - the [`Sampler`] reads them every interval on reader threads, which keep
//!   a hanging read from stalling anything else; a sensor is down when its
//!   latest good value is older than the latest judged pass;
//! - a [`Selection`] says which of them feed `cpu_temperature_celsius`;
//! - [`SensorTemperature`] and the collectors of [`exposition`],
//!   [`trip_exposition`] and [`throttle_exposition`] compute the metrics
//!   from the fresh values at scrape time, without touching sysfs.

mod attribute;
mod config;
pub(crate) mod exposition;
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
pub use sampler::{Sampler, RESIDENT_READERS};
pub(crate) use selection::HwmonSelector;
pub use selection::{Selection, ThermalSelector};
pub use sensor::SensorKind;

use std::sync::Arc;

use crate::metrics::Collector;
use sampler::SamplerOutput;
use throttle_exposition::{Family, FirmwareFlags, SampledValues, ThrottledNow};
use trip_exposition::{TripPoints, TripRatio};

/// Every collector of the sampled sensors' families, in exposition order: the
/// one list that the server's registry and the tests register.
pub fn collectors(output: &Arc<SamplerOutput>) -> Vec<Arc<dyn Collector>> {
    vec![
        Arc::new(exposition::SensorTemperatures::thermal(output.clone())),
        Arc::new(exposition::SensorTemperatures::hwmon(output.clone())),
        Arc::new(exposition::SensorUp::new(output.clone())),
        output.errors.clone(),
        Arc::new(TripPoints::temperatures(output.clone())),
        Arc::new(TripPoints::hysteresis(output.clone())),
        Arc::new(TripRatio::new(output.clone())),
        Arc::new(SampledValues::new(Family::CoolingCur, output.clone())),
        Arc::new(SampledValues::new(Family::CoolingMax, output.clone())),
        Arc::new(SampledValues::new(Family::CoreThrottles, output.clone())),
        Arc::new(SampledValues::new(Family::PackageThrottles, output.clone())),
        Arc::new(SampledValues::new(Family::UnderVoltageAlarm, output.clone())),
        Arc::new(FirmwareFlags::new(output.clone())),
        Arc::new(ThrottledNow::new(output.clone())),
    ]
}
