//! `cpu_temperature_celsius`: the gauge a scrape reads from the source.

use std::sync::Arc;

use super::source::TemperatureSource;
use crate::metrics::{Collector, Desc, MetricType, Sample, Value};

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
