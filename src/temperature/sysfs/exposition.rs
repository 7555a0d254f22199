//! What scrapes read, computed at scrape time from what the sampler
//! published, without touching sysfs: [`SensorTemperature`] (the source of
//! `cpu_temperature_celsius`), `thermal_zone_temperature_celsius{zone,type}`,
//! `hwmon_temperature_celsius{chip,sensor,label}` and `temperature_sensor_up`
//! (`temperature_sensor_read_errors_total` is the sampler's `CounterVec`).
//!
//! A sensor that is down has no sample, like `cpu_temperature_celsius`: a
//! stale number would look like a live one, and NaN becomes 0 in
//! prometheus-adapter. Series come and go with the sensors a rescan finds;
//! the registry stays fixed because each family is one collector.

use std::sync::Arc;

use super::sampler::SamplerOutput;
use super::selection::Selection;
use super::sensor::SensorKind;
use crate::metrics::{Collector, Desc, MetricType, Sample, Value};
use crate::temperature::{Direction, NotAdjustable, TemperatureSource};

pub(crate) const THERMAL_NAME: &str = "thermal_zone_temperature_celsius";
pub(crate) const HWMON_NAME: &str = "hwmon_temperature_celsius";
pub(crate) const UP_NAME: &str = "temperature_sensor_up";

/// The [`TemperatureSource`] backed by real sensors: the hottest selected
/// sensor with a fresh value; requests cannot move it.
pub(crate) struct SensorTemperature {
    output: Arc<SamplerOutput>,
    name: &'static str,
    refusal: &'static str,
}

impl SensorTemperature {
    pub(crate) fn new(output: Arc<SamplerOutput>, selection: &Selection) -> SensorTemperature {
        let name = match selection {
            Selection::Thermal(_) => "thermal",
            Selection::Hwmon(_) => "hwmon",
        };
        // `NotAdjustable` carries a `&'static str` so the request path never
        // formats or allocates; the text is built once per source, so leaking
        // it costs one small string for the life of the process.
        let refusal = Box::leak(
            format!(
                "temperature comes from a real sensor ({selection}); /cpuTempUp and /cpuTempDown only move the simulated source"
            )
            .into_boxed_str(),
        );
        SensorTemperature { output, name, refusal }
    }
}

impl TemperatureSource for SensorTemperature {
    fn name(&self) -> &'static str {
        self.name
    }

    fn celsius(&self) -> Option<f64> {
        self.output.selected_celsius()
    }

    fn adjust(&self, _direction: Direction) -> Result<f64, NotAdjustable> {
        Err(NotAdjustable(self.refusal))
    }
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> Desc {
    Desc::new(name, help, MetricType::Gauge, labels).expect("constant metric name is valid")
}

/// Every sensor of one kind that has a fresh value.
pub struct SensorTemperatures {
    desc: Desc,
    kind: SensorKind,
    output: Arc<SamplerOutput>,
}

impl SensorTemperatures {
    /// `thermal_zone_temperature_celsius{zone,type}`.
    pub fn thermal(output: Arc<SamplerOutput>) -> SensorTemperatures {
        let help = "Temperature of each readable thermal zone, in degrees Celsius.";
        SensorTemperatures {
            desc: gauge(THERMAL_NAME, help, &["zone", "type"]),
            kind: SensorKind::Thermal,
            output,
        }
    }

    /// `hwmon_temperature_celsius{chip,sensor,label}`.
    pub fn hwmon(output: Arc<SamplerOutput>) -> SensorTemperatures {
        let help = "Temperature of each readable hwmon temperature sensor, in degrees Celsius.";
        SensorTemperatures {
            desc: gauge(HWMON_NAME, help, &["chip", "sensor", "label"]),
            kind: SensorKind::Hwmon,
            output,
        }
    }
}

impl Collector for SensorTemperatures {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let (set, judged) = (self.output.sensors(), self.output.judged());
        for sensor in set.of(self.kind) {
            if let Some(v) = sensor.value(judged) {
                emit(Sample::new(&sensor.labels, Value::Float(v)));
            }
        }
    }
}

/// 1 while a selected sensor has a fresh value, 0 while none has.
pub struct SensorUp {
    desc: Desc,
    output: Arc<SamplerOutput>,
}

impl SensorUp {
    pub fn new(output: Arc<SamplerOutput>) -> SensorUp {
        let help = "1 while the sensor behind cpu_temperature_celsius is readable, 0 while it is not.";
        SensorUp {
            desc: gauge(UP_NAME, help, &[]),
            output,
        }
    }
}

impl Collector for SensorUp {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let up = self.output.selected_celsius().is_some();
        emit(Sample::new(&[], Value::Float(if up { 1.0 } else { 0.0 })));
    }
}
