//! The sampler: a thread that reads every sensor once per
//! `--sensor-interval` through the [`ReaderPool`], and re-lists the sysfs
//! trees every [`RESCAN_EVERY`] passes on a thread of its own (rescans read
//! `type`, `name` and label files, which could block too: while one hangs,
//! sampling goes on with the last published list and no other rescan
//! starts). Nothing here runs on the request path.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::reader_pool::{PassReport, ReaderPool};
use super::selection::Selection;
use super::sensor::{Sensor, SensorKind};
use super::sensor_set::PublishedSet;
use super::{hwmon::scan_chips, thermal::scan_zones};
use crate::metrics::{CounterVec, Desc, MetricType};

/// Passes between two rescans of the sysfs trees.
pub(crate) const RESCAN_EVERY: u32 = 10;

pub(crate) const READ_ERRORS_NAME: &str = "temperature_sensor_read_errors_total";

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub thermal_root: PathBuf,
    pub hwmon_root: PathBuf,
    /// Time between the starts of two passes.
    pub interval: Duration,
    /// How long a pass waits for a read before counting it as timed out.
    pub read_timeout: Duration,
}

/// What the sampler publishes and scrapes read.
pub struct SamplerOutput {
    pub sensors: PublishedSet,
    /// `temperature_sensor_read_errors_total{source}`, indexed by `SensorKind::index`.
    pub errors: Arc<CounterVec>,
    /// The latest pass whose reads have all answered or passed their
    /// deadline: values from before it are stale.
    judged: AtomicU64,
}

impl SamplerOutput {
    pub fn judged(&self) -> u64 {
        self.judged.load(Ordering::Acquire)
    }

    /// The hottest selected sensor with a fresh value, computed at the call.
    pub fn selected_celsius(&self) -> Option<f64> {
        self.sensors.get().selected_celsius(self.judged())
    }
}

/// How many sensors were found and how many have a fresh value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SensorCounts {
    pub zones: usize,
    pub zones_up: usize,
    pub hwmon: usize,
    pub hwmon_up: usize,
}

/// Owns the sampling thread; dropping it stops the thread and the readers.
pub struct Sampler {
    core: Arc<Core>,
    thread: Option<JoinHandle<()>>,
}

struct Core {
    config: SamplerConfig,
    output: Arc<SamplerOutput>,
    pool: ReaderPool,
    stopped: AtomicBool,
    rescanning: AtomicBool,
}

impl Sampler {
    /// Lists the sensors and reads them once, on the calling thread (with
    /// the usual read deadline), so the caller can decide what to use. No
    /// background thread runs until [`Sampler::start`].
    pub fn new(config: SamplerConfig) -> Sampler {
        let help = "Temperature sensor reads that failed, plus one per sampling pass that ended with a read still outstanding, by source.";
        let desc = Desc::new(READ_ERRORS_NAME, help, MetricType::Counter, &["source"]).expect("valid name");
        let series = SensorKind::ALL.map(|k| [k.label()]);
        let errors = Arc::new(CounterVec::new(desc, &series.each_ref().map(|s| &s[..]), |_| true));
        let output = Arc::new(SamplerOutput {
            sensors: PublishedSet::default(),
            errors: errors.clone(),
            judged: AtomicU64::new(0),
        });
        let core = Core {
            pool: ReaderPool::new(config.read_timeout, errors),
            config,
            output,
            stopped: AtomicBool::new(false),
            rescanning: AtomicBool::new(false),
        };
        core.rescan();
        core.run_pass();
        Sampler {
            core: Arc::new(core),
            thread: None,
        }
    }

    pub fn output(&self) -> Arc<SamplerOutput> {
        self.core.output.clone()
    }

    /// Sensors found, and with a fresh value as of the latest pass.
    pub fn counts(&self) -> SensorCounts {
        let (set, judged) = (self.core.output.sensors.get(), self.core.output.judged());
        let up = |list: &[Arc<Sensor>]| list.iter().filter(|s| s.celsius(judged).is_some()).count();
        SensorCounts {
            zones: set.zones.len(),
            zones_up: up(&set.zones),
            hwmon: set.hwmon.len(),
            hwmon_up: up(&set.hwmon),
        }
    }

    /// Reader threads alive: the resident ones, plus one per read stuck
    /// past its deadline and not yet returned.
    pub fn reader_threads(&self) -> usize {
        self.core.pool.readers()
    }

    /// Chooses the sensors behind `cpu_temperature_celsius`; before
    /// [`Sampler::start`] (from then on, rescans carry it over).
    pub fn select(&self, selection: Selection) {
        let sensors = &self.core.output.sensors;
        sensors.publish(sensors.get().selecting(selection));
    }

    /// One pass on the calling thread, as the sampling thread runs every
    /// interval; for start-up, tests and measurement, before [`Sampler::start`].
    pub fn run_pass(&self) -> PassReport {
        assert!(self.thread.is_none(), "the sampler thread runs the passes");
        self.core.run_pass()
    }

    pub fn start(&mut self) -> std::io::Result<()> {
        if self.thread.is_none() {
            let core = self.core.clone();
            let builder = std::thread::Builder::new().name("sensor-sampler".into());
            self.thread = Some(builder.spawn(move || core.sample_until_stopped())?);
        }
        Ok(())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.core.stopped.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // A pass in progress ends by its deadline at the latest.
            let _ = thread.join();
        }
        self.core.pool.stop();
    }
}

impl Core {
    fn run_pass(&self) -> PassReport {
        let set = self.output.sensors.get();
        let report = self.pool.run_pass(&[&set.zones, &set.hwmon]);
        self.output.judged.store(report.pass, Ordering::Release);
        report
    }

    fn rescan(&self) {
        let (zones, hwmon) = (
            scan_zones(&self.config.thermal_root),
            scan_chips(&self.config.hwmon_root),
        );
        let sensors = &self.output.sensors;
        sensors.publish(sensors.get().rescanned(zones, hwmon));
    }

    /// A pass every interval (skipping ticks it overran) until the
    /// [`Sampler`] is dropped, which sets `stopped` and unparks this thread.
    fn sample_until_stopped(self: Arc<Core>) {
        let mut next = Instant::now();
        for pass in 1u64.. {
            next += self.config.interval;
            while !self.stopped.load(Ordering::Acquire) && Instant::now() < next {
                std::thread::park_timeout(next.saturating_duration_since(Instant::now()));
            }
            if self.stopped.load(Ordering::Acquire) {
                return;
            }
            self.run_pass();
            if pass % u64::from(RESCAN_EVERY) == 0 && !self.rescanning.swap(true, Ordering::AcqRel) {
                // Not joined: a rescan blocked in a read must hold up neither
                // sampling nor shutdown.
                let core = self.clone();
                let builder = std::thread::Builder::new().name("sensor-scanner".into());
                let spawned = builder.spawn(move || {
                    core.rescan();
                    core.rescanning.store(false, Ordering::Release);
                });
                if spawned.is_err() {
                    self.rescanning.store(false, Ordering::Release);
                }
            }
            next = next.max(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temperature::sysfs::selection::{HwmonSelector, ThermalSelector};
    use crate::temperature::sysfs::test_dir::{wait_for, TestDir};

    fn config(dir: &TestDir, interval_ms: u64) -> SamplerConfig {
        SamplerConfig {
            thermal_root: dir.path().join("thermal"),
            hwmon_root: dir.path().join("hwmon"),
            interval: Duration::from_millis(interval_ms),
            read_timeout: Duration::from_millis(interval_ms / 2),
        }
    }

    #[test]
    fn first_pass_happens_before_new_returns() {
        let dir = TestDir::new("sampler-first");
        dir.write("thermal/thermal_zone0/type", "acpitz\n");
        dir.write("thermal/thermal_zone0/temp", "30000\n");
        dir.write("thermal/thermal_zone1/type", "x86_pkg_temp\n");
        dir.write("thermal/thermal_zone1/temp", "garbage\n");
        dir.write("hwmon/hwmon0/name", "coretemp\n");
        dir.write("hwmon/hwmon0/temp1_input", "41000\n");
        let sampler = Sampler::new(config(&dir, 1000));
        assert_eq!(
            sampler.counts(),
            SensorCounts {
                zones: 2,
                zones_up: 1,
                hwmon: 1,
                hwmon_up: 1
            }
        );
        let out = sampler.output();
        assert_eq!(out.errors.get(SensorKind::Thermal.index()), 1);
        assert_eq!(out.selected_celsius(), None, "nothing selected yet");
        sampler.select(Selection::Thermal(ThermalSelector::Cpu));
        assert_eq!(out.selected_celsius(), None, "the CPU zone is garbage");
        sampler.select(Selection::Thermal(ThermalSelector::Max));
        assert_eq!(out.selected_celsius(), Some(30.0));
        sampler.select(Selection::Hwmon(HwmonSelector::Cpu));
        assert_eq!(out.selected_celsius(), Some(41.0));
    }

    #[test]
    fn background_passes_and_rescans() {
        let dir = TestDir::new("sampler-background");
        dir.write("thermal/thermal_zone0/type", "x86_pkg_temp\n");
        let temp = dir.write("thermal/thermal_zone0/temp", "30000\n");
        let mut sampler = Sampler::new(config(&dir, 20));
        sampler.select(Selection::Thermal(ThermalSelector::Cpu));
        let out = sampler.output();
        sampler.start().unwrap();
        std::fs::write(&temp, "31000\n").unwrap();
        wait_for("a new value", || out.selected_celsius() == Some(31.0));
        dir.write("thermal/thermal_zone1/type", "x86_pkg_temp\n");
        dir.write("thermal/thermal_zone1/temp", "90000\n");
        wait_for("the new zone", || out.selected_celsius() == Some(90.0));
        std::fs::remove_dir_all(dir.path().join("thermal/thermal_zone1")).unwrap();
        wait_for("the zone to go", || out.sensors.get().zones.len() == 1);
        wait_for("the old value", || out.selected_celsius() == Some(31.0));
        drop(sampler);
    }
}
