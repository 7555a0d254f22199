//! [`SamplerConfig`]: what sysfs sampling is given, and nothing more.

use std::path::PathBuf;
use std::time::Duration;

/// What the sampler reads, and how often: only what sysfs sampling needs
/// (the simulation's start and step, and which sensors are selected, are
/// the outer layer's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplerConfig {
    pub thermal_root: PathBuf,
    pub hwmon_root: PathBuf,
    /// sysfs' `devices` directory: Intel's throttle counters under
    /// `system/cpu`, the Raspberry Pi firmware under `platform`.
    pub devices_root: PathBuf,
    /// Time between the starts of two sampling passes.
    pub interval: Duration,
    /// How long a pass waits for a read before it counts as timed out.
    pub read_timeout: Duration,
}

impl SamplerConfig {
    /// The default roots, sampled every `interval`, a read not done within
    /// half of it timed out: the one place the deadline follows from the
    /// interval.
    pub fn every(interval: Duration) -> SamplerConfig {
        SamplerConfig {
            thermal_root: PathBuf::from("/sys/class/thermal"),
            hwmon_root: PathBuf::from("/sys/class/hwmon"),
            devices_root: PathBuf::from("/sys/devices"),
            interval,
            read_timeout: interval / 2,
        }
    }
}

/// The defaults, written only here: the command line's flags show them in
/// `--help` and fall back to them.
impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig::every(Duration::from_secs(1))
    }
}
