//! The sampler: a background thread that reads every sensor once per
//! `--sensor-interval` into atomics, and a scanner thread that re-lists the
//! sysfs trees every [`RESCAN_EVERY`] intervals.
//!
//! Nothing here runs on the request path: a scrape only loads the atomics
//! and the published [`SensorSet`]. Reads go through the [`ReaderPool`], so
//! a hanging sensor costs one thread and a timeout per pass, not a stalled
//! sampler. Rescans run on a thread of their own because they read `type`,
//! `name` and label files, which could block as well; while a rescan hangs,
//! sampling goes on with the last published list.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::hwmon::scan_chips;
use super::reader_pool::{PassReport, ReaderPool};
use super::selection::Selection;
use super::sensor::SensorKind;
use super::sensor_set::{PublishedSet, SensorSet};
use super::thermal::scan_zones;
use crate::metrics::{AtomicF64, CounterVec, Desc, MetricType};

/// Passes between two rescans of the sysfs trees.
pub const RESCAN_EVERY: u32 = 10;

pub const READ_ERRORS_NAME: &str = "temperature_sensor_read_errors_total";

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub thermal_root: PathBuf,
    pub hwmon_root: PathBuf,
    /// Time between the starts of two passes.
    pub interval: Duration,
    /// How long a pass waits for a read before counting it as timed out.
    pub read_timeout: Duration,
}

/// What the threads produce and scrapes read.
pub struct SamplerOutput {
    pub sensors: PublishedSet,
    /// `temperature_sensor_read_errors_total{source}`, indexed by `SensorKind::index`.
    pub errors: Arc<CounterVec>,
    selected_celsius: AtomicF64,
    selected_up: AtomicBool,
}

impl SamplerOutput {
    /// The hottest readable selected sensor as of the latest pass.
    pub fn selected_celsius(&self) -> Option<f64> {
        if self.selected_up.load(Ordering::Acquire) {
            Some(self.selected_celsius.get())
        } else {
            None
        }
    }

    fn update_selected(&self, set: &SensorSet) {
        match set.selected_celsius() {
            Some(v) => {
                self.selected_celsius.set(v);
                self.selected_up.store(true, Ordering::Release);
            }
            None => self.selected_up.store(false, Ordering::Release),
        }
    }
}

/// How many sensors were found and how many gave a good value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SensorCounts {
    pub zones: usize,
    pub zones_up: usize,
    pub hwmon: usize,
    pub hwmon_up: usize,
}

struct Core {
    config: SamplerConfig,
    output: Arc<SamplerOutput>,
    pool: ReaderPool,
    selection: Mutex<Option<Selection>>,
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// Owns the sampling threads; dropping it stops them.
pub struct Sampler {
    core: Arc<Core>,
    pass_thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Lists the sensors and reads them once, on the calling thread (with
    /// the usual read deadline), so the caller can decide what to use. No
    /// background thread runs until [`Sampler::start`].
    pub fn new(config: SamplerConfig) -> Sampler {
        let desc = Desc::new(
            READ_ERRORS_NAME,
            "Temperature sensor reads that failed, plus one per sampling pass that ended with a read still outstanding, by source.",
            MetricType::Counter,
            &["source"],
        )
        .expect("constant metric name is valid");
        let series: Vec<[&str; 1]> = SensorKind::ALL.iter().map(|k| [k.label()]).collect();
        let series: Vec<&[&str]> = series.iter().map(|s| &s[..]).collect();
        let errors = Arc::new(CounterVec::new(desc, &series, |_| true));
        let output = Arc::new(SamplerOutput {
            sensors: PublishedSet::default(),
            errors: errors.clone(),
            selected_celsius: AtomicF64::new(0.0),
            selected_up: AtomicBool::new(false),
        });
        let core = Arc::new(Core {
            pool: ReaderPool::new(config.read_timeout, errors),
            config,
            output,
            selection: Mutex::new(None),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        core.rescan();
        core.run_pass();
        Sampler {
            core,
            pass_thread: None,
        }
    }

    pub fn output(&self) -> Arc<SamplerOutput> {
        self.core.output.clone()
    }

    /// Sensors found and readable as of the latest pass.
    pub fn counts(&self) -> SensorCounts {
        let set = self.core.output.sensors.get();
        SensorCounts {
            zones: set.zones.len(),
            zones_up: set.zones.iter().filter(|s| s.is_up()).count(),
            hwmon: set.hwmon.len(),
            hwmon_up: set.hwmon.iter().filter(|s| s.is_up()).count(),
        }
    }

    /// Reader threads alive: the resident ones, plus one per read written
    /// off as hung and not yet returned.
    pub fn reader_threads(&self) -> usize {
        self.core.pool.readers()
    }

    /// Chooses the sensors behind `cpu_temperature_celsius`.
    pub fn select(&self, selection: Selection) {
        let set = self.core.output.sensors.get().reselect(&selection);
        *self.core.selection.lock() = Some(selection);
        self.core.output.update_selected(&set);
        self.core.output.sensors.publish(set);
    }

    /// One sampling pass on the calling thread (what the background thread
    /// runs every interval); for start-up, tests and measurement. Not to be
    /// called once [`Sampler::start`] has run.
    pub fn run_pass(&self) -> PassReport {
        assert!(self.pass_thread.is_none(), "the sampler thread runs the passes");
        self.core.run_pass()
    }

    /// Starts the pass thread and the scanner thread.
    pub fn start(&mut self) -> std::io::Result<()> {
        if self.pass_thread.is_some() {
            return Ok(());
        }
        let interval = self.core.config.interval;
        let core = self.core.clone();
        self.pass_thread = Some(
            std::thread::Builder::new()
                .name("sensor-sampler".into())
                .spawn(move || core.every(interval, Core::run_pass))?,
        );
        let core = self.core.clone();
        // Not joined on drop: a scan blocked in a read must not block shutdown.
        std::thread::Builder::new()
            .name("sensor-scanner".into())
            .spawn(move || core.every(interval * RESCAN_EVERY, Core::rescan))?;
        Ok(())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        *self.core.stopped.lock() = true;
        self.core.wake.notify_all();
        // A pass in progress ends by its deadline at the latest.
        if let Some(t) = self.pass_thread.take() {
            let _ = t.join();
        }
        self.core.pool.stop();
    }
}

impl Core {
    fn run_pass(&self) -> PassReport {
        let set = self.output.sensors.get();
        let report = self.pool.run_pass(&[&set.zones, &set.hwmon]);
        self.output.update_selected(&set);
        report
    }

    fn rescan(&self) {
        let zones = scan_zones(&self.config.thermal_root);
        let hwmon = scan_chips(&self.config.hwmon_root);
        let previous = self.output.sensors.get();
        let selection = self.selection.lock().clone();
        let set = SensorSet::rebuild(&previous, zones, hwmon, selection.as_ref());
        self.output.update_selected(&set);
        self.output.sensors.publish(set);
    }

    /// Runs `work` every `period` (skipping ticks it overran) until stopped.
    fn every<R>(&self, period: Duration, work: fn(&Core) -> R) {
        let mut next = Instant::now() + period;
        loop {
            {
                let mut stopped = self.stopped.lock();
                while !*stopped && Instant::now() < next {
                    self.wake.wait_until(&mut stopped, next);
                }
                if *stopped {
                    return;
                }
            }
            work(self);
            next += period;
            let now = Instant::now();
            if next <= now {
                next = now + period;
            }
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
