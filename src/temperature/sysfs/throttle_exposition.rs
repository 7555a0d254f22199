//! The throttling families, computed at scrape time from the published set:
//! cooling device states (`cooling_device_{cur,max}_state{name,type}`, as
//! node_exporter's `node_cooling_device_*`), Intel's throttle counters
//! (`cpu_core_throttles_total{core,package}`,
//! `cpu_package_throttles_total{package}`, as node_exporter's
//! `node_cpu_*_throttles_total`), the Raspberry Pi firmware's flags
//! (`rpi_throttled{flag,when}`) and under-voltage alarm
//! (`rpi_under_voltage_alarm`), and `cpu_throttled`, the one gauge that
//! says whether the CPU is slowed now.

use std::sync::Arc;

use super::sampler::SamplerOutput;
use super::sensor_set::SensorSet;
use crate::metrics::{Collector, Desc, MetricType, Sample, Value};

/// The firmware's `get_throttled` bits (Raspberry Pi documentation,
/// `vcgencmd get_throttled`): the low half is "now", the same bits 16 up
/// are "since boot".
const FIRMWARE_FLAGS: [(&str, u32); 4] = [
    ("under_voltage", 0),
    ("frequency_capped", 1),
    ("throttled", 2),
    ("soft_temperature_limit", 3),
];
const SINCE_BOOT_SHIFT: u32 = 16;
/// The flags that mean the ARM cores run slower now: capped, throttled,
/// soft temperature limit (under-voltage alone caps the clock through bit 1).
const FIRMWARE_SLOWED_NOW: u32 = 0b1110;

/// A cooling device that slows the CPU when engaged (state above 0): ACPI
/// processor throttling (`Processor`), idle injection (`intel_powerclamp`)
/// and cpufreq cooling (`cpufreq-cpuN`, `thermal-cpufreq-N` on older
/// kernels). Fans cool without slowing; `TCC Offset` is a configured
/// offset, not an event; devfreq devices are GPUs and NPUs.
pub(crate) fn slows_the_cpu(cooling_type: &str) -> bool {
    cooling_type == "Processor"
        || cooling_type == "intel_powerclamp"
        || cooling_type.starts_with("cpufreq-")
        || cooling_type.starts_with("thermal-cpufreq-")
}

impl SensorSet {
    /// Whether the CPU is slowed now, from every source the node has with a
    /// fresh value: the firmware's now-flags, an engaged CPU cooling
    /// device, a throttle counter that rose in the last interval. `None`
    /// when the node has none of them.
    pub fn throttled_now(&self, judged: u64) -> Option<bool> {
        let firmware = self.firmware.iter().filter_map(|s| s.value(judged));
        let firmware = firmware.map(|flags| flags as u32 & FIRMWARE_SLOWED_NOW != 0);
        let cooling = self.cooling_cur.iter().filter(|s| slows_the_cpu(&s.labels[1]));
        let cooling = cooling.filter_map(|s| s.value(judged)).map(|state| state > 0.0);
        let counters = self.core_throttles.iter().chain(&self.package_throttles);
        let counters = counters.filter(|s| s.value(judged).is_some()).map(|s| s.rose(judged));
        firmware.chain(cooling).chain(counters).reduce(|a, b| a || b)
    }
}

fn desc(name: &str, help: &str, metric_type: MetricType, labels: &[&str]) -> Desc {
    Desc::new(name, help, metric_type, labels).expect("constant metric name is valid")
}

/// Which list of the set a [`SampledValues`] family exports.
#[derive(Clone, Copy, Debug)]
pub enum Family {
    CoolingCur,
    CoolingMax,
    CoreThrottles,
    PackageThrottles,
    UnderVoltageAlarm,
}

/// Each file of one list with a fresh value, as read.
pub struct SampledValues {
    desc: Desc,
    family: Family,
    output: Arc<SamplerOutput>,
}

impl SampledValues {
    pub fn new(family: Family, output: Arc<SamplerOutput>) -> SampledValues {
        let desc = match family {
            Family::CoolingCur => desc(
                "cooling_device_cur_state",
                "Current state of each cooling device (0: not engaged; -1: intel_powerclamp idle).",
                MetricType::Gauge,
                &["name", "type"],
            ),
            Family::CoolingMax => desc(
                "cooling_device_max_state",
                "Highest state of each cooling device.",
                MetricType::Gauge,
                &["name", "type"],
            ),
            Family::CoreThrottles => desc(
                "cpu_core_throttles_total",
                "Times a CPU core was thermally throttled (Intel thermal_throttle/core_throttle_count).",
                MetricType::Counter,
                &["core", "package"],
            ),
            Family::PackageThrottles => desc(
                "cpu_package_throttles_total",
                "Times a CPU package was thermally throttled (Intel thermal_throttle/package_throttle_count).",
                MetricType::Counter,
                &["package"],
            ),
            Family::UnderVoltageAlarm => desc(
                "rpi_under_voltage_alarm",
                "1 while the Raspberry Pi's supply is below its minimum (rpi_volt hwmon in0_lcrit_alarm), else 0.",
                MetricType::Gauge,
                &[],
            ),
        };
        SampledValues { desc, family, output }
    }
}

impl Collector for SampledValues {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let (set, judged) = (self.output.sensors(), self.output.judged());
        let list = match self.family {
            Family::CoolingCur => &set.cooling_cur,
            Family::CoolingMax => &set.cooling_max,
            Family::CoreThrottles => &set.core_throttles,
            Family::PackageThrottles => &set.package_throttles,
            Family::UnderVoltageAlarm => &set.undervoltage,
        };
        for sensor in list {
            if let Some(v) = sensor.value(judged) {
                emit(Sample::new(&sensor.labels, Value::Float(v)));
            }
        }
    }
}

/// `rpi_throttled{flag,when}`: each firmware flag, now and since boot, 0 or 1.
pub struct FirmwareFlags {
    desc: Desc,
    /// `[flag, when]` per series, built once: scrapes only borrow them.
    labels: Vec<([Box<str>; 2], u32)>,
    output: Arc<SamplerOutput>,
}

impl FirmwareFlags {
    pub fn new(output: Arc<SamplerOutput>) -> FirmwareFlags {
        let help =
            "Raspberry Pi firmware throttling flags (get_throttled), 1 when set: now, or at any time since boot.";
        let labels = ["now", "since_boot"]
            .into_iter()
            .zip([0, SINCE_BOOT_SHIFT])
            .flat_map(|(when, shift)| {
                FIRMWARE_FLAGS
                    .iter()
                    .map(move |&(flag, bit)| ([flag.into(), when.into()], bit + shift))
            })
            .collect();
        FirmwareFlags {
            desc: desc("rpi_throttled", help, MetricType::Gauge, &["flag", "when"]),
            labels,
            output,
        }
    }
}

impl Collector for FirmwareFlags {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let (set, judged) = (self.output.sensors(), self.output.judged());
        if let Some(flags) = set.firmware.iter().find_map(|s| s.value(judged)) {
            for (labels, bit) in &self.labels {
                let set = (flags as u32 >> bit) & 1;
                emit(Sample::new(labels, Value::Float(f64::from(set))));
            }
        }
    }
}

/// `cpu_throttled`: 1 while the CPU is slowed (see
/// [`SensorSet::throttled_now`]), 0 while not; no sample without a source.
pub struct ThrottledNow {
    desc: Desc,
    output: Arc<SamplerOutput>,
}

impl ThrottledNow {
    pub fn new(output: Arc<SamplerOutput>) -> ThrottledNow {
        let help = "1 while the CPU is slowed for heat or power now (Raspberry Pi firmware flags, an engaged CPU cooling device, an Intel throttle counter that rose in the last sampling interval), else 0.";
        ThrottledNow {
            desc: desc("cpu_throttled", help, MetricType::Gauge, &[]),
            output,
        }
    }
}

impl Collector for ThrottledNow {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        if let Some(now) = self.output.sensors().throttled_now(self.output.judged()) {
            emit(Sample::new(&[], Value::Float(if now { 1.0 } else { 0.0 })));
        }
    }
}

/// For the start-up line: which throttling sources the node has.
pub(crate) fn describe_throttling(set: &SensorSet) -> String {
    let cpu_cooling = set.cooling_cur.iter().filter(|s| slows_the_cpu(&s.labels[1])).count();
    format!(
        "throttling from {} cooling device(s) ({cpu_cooling} slowing the CPU), {} core and {} package throttle counter(s), {}",
        set.cooling_cur.len(),
        set.core_throttles.len(),
        set.package_throttles.len(),
        if set.firmware.is_empty() { "no Raspberry Pi firmware flags" } else { "the Raspberry Pi firmware flags" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_cooling_types() {
        for t in ["Processor", "intel_powerclamp", "cpufreq-cpu0", "thermal-cpufreq-0"] {
            assert!(slows_the_cpu(t), "{t}");
        }
        for t in ["Fan", "pwm-fan", "TCC Offset", "devfreq-fb000000.gpu", "LCD", ""] {
            assert!(!slows_the_cpu(t), "{t}");
        }
    }
}
