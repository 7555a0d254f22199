//! Where `cpu_temperature_celsius` comes from.
//!
//! A [`TemperatureSource`] is the one abstraction the HTTP side sees: the
//! simulated source of the seed app, or real sysfs sensors ([`sysfs`]),
//! chosen by [`build_source`] from the configuration; [`TemperatureGauge`]
//! reads it at scrape time.

use std::sync::Arc;

use crate::metrics::{AtomicF64, Collector, Desc, MetricType, Sample, Value};

mod change_log;
mod setup;
pub(crate) mod sysfs;

pub(crate) use change_log::ChangeLog;
pub use setup::{build_source, SourceChoice, TemperatureConfig, TemperatureSetup};
pub(crate) use sysfs::HwmonSelector;
pub use sysfs::ThermalSelector;

/// Which way `/cpuTempUp` and `/cpuTempDown` move the temperature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// The source cannot be moved by requests (a real sensor); the text says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAdjustable(pub &'static str);

/// A temperature reading, cheap enough to call on every scrape.
pub trait TemperatureSource: Send + Sync {
    /// Short name for logs and docs (`simulated`, `thermal`, `hwmon`).
    fn name(&self) -> &'static str;
    /// The current temperature in degrees Celsius, or `None` while unknown.
    fn celsius(&self) -> Option<f64>;
    /// Moves the temperature one step and returns the new value.
    fn adjust(&self, direction: Direction) -> Result<f64, NotAdjustable>;
}

/// Starts at `start`, moves by `step` per request; lock-free.
pub struct SimulatedTemperature {
    value: AtomicF64,
    step: f64,
}

impl SimulatedTemperature {
    pub fn new(start: f64, step: f64) -> SimulatedTemperature {
        SimulatedTemperature {
            value: AtomicF64::new(start),
            step,
        }
    }
}

impl TemperatureSource for SimulatedTemperature {
    fn name(&self) -> &'static str {
        "simulated"
    }

    fn celsius(&self) -> Option<f64> {
        Some(self.value.get())
    }

    fn adjust(&self, direction: Direction) -> Result<f64, NotAdjustable> {
        Ok(match direction {
            Direction::Up => self.value.add(self.step),
            Direction::Down => self.value.add(-self.step),
        })
    }
}

/// Reports the source's reading; emits no sample while the reading is
/// unknown (an absent sample is safer for an HPA than a NaN read as 0).
pub(crate) struct TemperatureGauge {
    desc: Desc,
    source: Arc<dyn TemperatureSource>,
}

impl TemperatureGauge {
    pub(crate) fn new(source: Arc<dyn TemperatureSource>) -> TemperatureGauge {
        let desc = Desc::new(
            "cpu_temperature_celsius",
            "Current temperature of the CPU.",
            MetricType::Gauge,
            &[],
        )
        .expect("constant metric name is valid");
        TemperatureGauge { desc, source }
    }
}

impl Collector for TemperatureGauge {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        if let Some(v) = self.source.celsius() {
            emit(Sample::new(&[], Value::Float(v)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_by_step() {
        let t = SimulatedTemperature::new(50.0, 10.0);
        assert_eq!(t.adjust(Direction::Up), Ok(60.0));
        assert_eq!(t.adjust(Direction::Up), Ok(70.0));
        assert_eq!(t.adjust(Direction::Down), Ok(60.0));
        assert_eq!(t.celsius(), Some(60.0));
    }

    #[test]
    fn concurrent_steps_are_not_lost() {
        let t = std::sync::Arc::new(SimulatedTemperature::new(0.0, 0.5));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        t.adjust(Direction::Up).unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(t.celsius(), Some(2000.0));
    }
}
