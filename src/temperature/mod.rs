//! Where `cpu_temperature_celsius` comes from.
//!
//! A [`TemperatureSource`] is the one abstraction the HTTP side sees: the
//! simulated source of the seed app, or real sysfs sensors ([`sysfs`]),
//! chosen by [`build_source`] from the configuration; [`TemperatureGauge`]
//! reads it at scrape time.

mod change_log;
mod gauge;
mod setup;
mod simulated;
mod source;
pub(crate) mod sysfs;

pub(crate) use change_log::ChangeLog;
pub(crate) use gauge::TemperatureGauge;
pub use setup::{build_source, SourceChoice, TemperatureConfig, TemperatureSetup};
pub use simulated::SimulatedTemperature;
pub(crate) use source::{Direction, NotAdjustable, TemperatureSource};
pub(crate) use sysfs::HwmonSelector;
pub(crate) use sysfs::SamplerConfig;
pub use sysfs::ThermalSelector;
