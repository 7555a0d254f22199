//! `cpu_temperature_celsius`: a gauge read from the active source at scrape time.

use std::sync::Arc;

use super::TemperatureSource;
use crate::metrics::{Collector, Desc, MetricType, Sample, Value};

pub(super) const NAME: &str = "cpu_temperature_celsius";

/// Reports the source's reading; emits no sample while the reading is
/// unknown (an absent sample is safer for an HPA than a NaN read as 0).
pub(crate) struct TemperatureGauge {
    desc: Desc,
    source: Arc<dyn TemperatureSource>,
}

impl TemperatureGauge {
    pub(crate) fn new(source: Arc<dyn TemperatureSource>) -> TemperatureGauge {
        let desc = Desc::new(NAME, "Current temperature of the CPU.", MetricType::Gauge, &[])
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
