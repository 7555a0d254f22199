//! The trip point families and the headroom metric, computed at scrape time
//! from the published set: `thermal_zone_trip_point_celsius{zone,index,type}`,
//! `thermal_zone_trip_point_hysteresis_celsius{zone,index,type}` and
//! `cpu_temperature_trip_ratio` (docs/sensors.md, "Trip points, headroom and
//! throttling", says what it means and why it is a ratio).

use std::sync::Arc;

use super::sampler::SamplerOutput;
use super::sensor_set::SensorSet;
use super::trips::headroom_trip;
use crate::metrics::{Collector, Desc, MetricType, Sample, Value};

pub(crate) const TRIP_NAME: &str = "thermal_zone_trip_point_celsius";
pub(crate) const HYSTERESIS_NAME: &str = "thermal_zone_trip_point_hysteresis_celsius";
pub(crate) const RATIO_NAME: &str = "cpu_temperature_trip_ratio";

fn gauge(name: &str, help: &str, labels: &[&str]) -> Desc {
    Desc::new(name, help, MetricType::Gauge, labels).expect("constant metric name is valid")
}

/// Every valid trip point's temperature, or its hysteresis where the zone
/// publishes one.
pub struct TripPoints {
    desc: Desc,
    hysteresis: bool,
    output: Arc<SamplerOutput>,
}

impl TripPoints {
    pub fn temperatures(output: Arc<SamplerOutput>) -> TripPoints {
        let help =
            "Temperature at which the kernel acts on a thermal zone (trip point), in degrees Celsius, by trip type.";
        TripPoints {
            desc: gauge(TRIP_NAME, help, &["zone", "index", "type"]),
            hysteresis: false,
            output,
        }
    }

    pub fn hysteresis(output: Arc<SamplerOutput>) -> TripPoints {
        let help =
            "How far below a trip point a thermal zone must cool before the kernel stops acting, in degrees Celsius.";
        TripPoints {
            desc: gauge(HYSTERESIS_NAME, help, &["zone", "index", "type"]),
            hysteresis: true,
            output,
        }
    }
}

impl Collector for TripPoints {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let set = self.output.sensors();
        for trip in &set.trips {
            let value = if self.hysteresis { trip.hyst } else { Some(trip.celsius) };
            if let Some(v) = value {
                emit(Sample::new(&trip.labels, Value::Float(v)));
            }
        }
    }
}

/// `cpu_temperature_trip_ratio`: the selected zones' temperature over
/// their headroom trip, the highest of them; no sample when no selected
/// zone has a fresh reading and such a trip.
pub struct TripRatio {
    desc: Desc,
    output: Arc<SamplerOutput>,
}

impl TripRatio {
    pub fn new(output: Arc<SamplerOutput>) -> TripRatio {
        let help = "cpu_temperature_celsius over the temperature where the kernel starts to slow the CPU (the zone's first passive trip point, else hot, else critical): 1 at that point.";
        TripRatio {
            desc: gauge(RATIO_NAME, help, &[]),
            output,
        }
    }
}

impl Collector for TripRatio {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        if let Some(v) = self.output.sensors().trip_ratio(self.output.judged()) {
            emit(Sample::new(&[], Value::Float(v)));
        }
    }
}

/// For the start-up line: which trip each selected zone's ratio is
/// measured against, or why there is none.
pub(crate) fn describe_headroom(set: &SensorSet) -> String {
    let trips: Vec<String> = set
        .selected
        .iter()
        .filter_map(|s| headroom_trip(&set.trips, &s.labels[0]).filter(|_| s.kind == super::SensorKind::Thermal))
        .map(|t| {
            format!(
                "{} {} trip_point_{} at {} °C",
                t.zone,
                t.kind.as_str(),
                t.index,
                t.celsius
            )
        })
        .collect();
    if trips.is_empty() {
        format!("{RATIO_NAME} absent: the selected sensor(s) have no passive, hot or critical trip point")
    } else {
        format!("{RATIO_NAME} against {}", trips.join(", "))
    }
}
