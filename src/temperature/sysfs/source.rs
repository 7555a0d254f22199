//! `SensorTemperature`: the [`TemperatureSource`] backed by real sensors.

use std::sync::Arc;

use super::sampler::SamplerOutput;
use super::selection::Selection;
use crate::temperature::{Direction, NotAdjustable, TemperatureSource};

/// Reports the sampler's latest value of the selected sensors; requests
/// cannot move it.
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
