//! The metric families of the sampled sensors, in exposition order: the one
//! list that the server's registry and the tests register.

use std::sync::Arc;

use super::exposition::{SensorTemperatures, SensorUp};
use super::sampler::SamplerOutput;
use super::throttle_exposition::{Family, FirmwareFlags, SampledValues, ThrottledNow};
use super::trip_exposition::{TripPoints, TripRatio};
use crate::metrics::Collector;

/// Every collector of the sampled sensors' families, in exposition order.
pub fn collectors(output: &Arc<SamplerOutput>) -> Vec<Arc<dyn Collector>> {
    vec![
        Arc::new(SensorTemperatures::thermal(output.clone())),
        Arc::new(SensorTemperatures::hwmon(output.clone())),
        Arc::new(SensorUp::new(output.clone())),
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
