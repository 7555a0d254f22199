//! The sampler: a thread that reads every sensor once per `--sensor-interval`
//! and re-lists the sysfs trees every [`RESCAN_EVERY`] passes, off the
//! request path; scrapes only load what [`SamplerOutput`] publishes.
//!
//! Reads run on a small pool of reader threads because Linux cannot cancel a
//! read stuck in a driver: a hanging read holds up one reader and nothing
//! else, and the pass that waited for it until its deadline writes it off
//! (docs/sensors.md, "Hanging reads", gives the rules and why). Rescans run
//! on a thread of their own for the same reason, one at a time.
//!
//! One lock and one condition variable: readers wait on it for jobs, a pass
//! for its last job, the sampling thread for its next tick or for stop. In
//! steady state a pass allocates nothing: the queue keeps its capacity, jobs
//! are `Arc` clones, each reader owns its buffer.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};

use super::config::SamplerConfig;
use super::scan::scan;
use super::selection::Selection;
use super::sensor::{Sensor, SensorKind, ERROR_SOURCES, READ_BUFFER_LEN, TRIP_ERRORS};
use super::sensor_set::SensorSet;
use crate::metrics::{CounterVec, Desc, MetricType};

/// Passes between two rescans of the sysfs trees.
pub(super) const RESCAN_EVERY: u32 = 10;
/// Readers kept free while nothing hangs: one can read while another is slow.
pub const RESIDENT_READERS: usize = 2;
/// Upper bound on reader threads, stuck ones included.
pub(super) const MAX_READERS: usize = 16;

pub(super) const READ_ERRORS_NAME: &str = "temperature_sensor_read_errors_total";

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// The pass's number (from 1); once it returns, values older than it are stale.
    pub pass: u64,
    /// Reads queued by this pass.
    pub queued: usize,
    /// Reads (of this pass or earlier ones) still outstanding past the deadline.
    pub timed_out: usize,
}

/// What the sampler publishes and scrapes read.
pub struct SamplerOutput {
    /// Swapped whole by rescans, so that nobody waits on a scan.
    sensors: RwLock<Arc<SensorSet>>,
    /// `temperature_sensor_read_errors_total{source}`, indexed by
    /// `SensorKind::index`, then `TRIP_ERRORS`.
    pub errors: Arc<CounterVec>,
    /// The latest pass whose reads have all answered or passed their
    /// deadline: values from before it are stale.
    judged: AtomicU64,
}

impl SamplerOutput {
    /// The current set. The lock is held for one `Arc` clone: a scrape waits
    /// at most for another pointer copy, never for I/O.
    pub fn sensors(&self) -> Arc<SensorSet> {
        self.sensors.read().clone()
    }

    fn publish(&self, set: SensorSet) {
        let set = Arc::new(set);
        // The old set is dropped after the lock is released.
        let _old = std::mem::replace(&mut *self.sensors.write(), set);
    }

    pub fn judged(&self) -> u64 {
        self.judged.load(Ordering::Acquire)
    }

    /// The hottest selected sensor with a fresh value, computed at the call.
    pub fn selected_celsius(&self) -> Option<f64> {
        self.sensors().selected_celsius(self.judged())
    }
}

/// Owns the sampling thread; dropping it stops the thread and the readers.
pub struct Sampler {
    core: Arc<Core>,
    thread: Option<JoinHandle<()>>,
}

struct Core {
    config: SamplerConfig,
    output: Arc<SamplerOutput>,
    state: Mutex<State>,
    /// Signalled when jobs are queued, when a pass's last job is done, and on stop.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Sensors to read, each with the pass that queued it.
    queue: VecDeque<(Arc<Sensor>, u64)>,
    pass: u64,
    /// Jobs of the current pass not finished yet.
    pending: usize,
    /// Reader threads alive, and how many of them are inside a read.
    readers: usize,
    reading: usize,
    rescanning: bool,
    stop: bool,
}

impl Sampler {
    /// Lists the sensors and reads them once, on the calling thread (with
    /// the usual read deadline), so the caller can decide what to use; then
    /// lists them again, now that the zones' idle readings judge their trip
    /// points. No sampling thread runs until [`Sampler::start`].
    pub fn new(config: SamplerConfig) -> Sampler {
        let help = "Sensor and throttling file reads that failed, plus one per sampling pass that ended with a read still outstanding, and trip points dropped at a scan, by source.";
        let desc = Desc::new(READ_ERRORS_NAME, help, MetricType::Counter, &["source"]).expect("valid name");
        let sources: Vec<[&str; 1]> = ERROR_SOURCES.iter().map(|s| [*s]).collect();
        let sources: Vec<&[&str]> = sources.iter().map(|s| &s[..]).collect();
        let errors = Arc::new(CounterVec::new(desc, &sources, |_| true));
        let output = SamplerOutput {
            sensors: RwLock::default(),
            errors,
            judged: AtomicU64::new(0),
        };
        let core = Arc::new(Core {
            config,
            output: Arc::new(output),
            state: Mutex::default(),
            changed: Condvar::new(),
        });
        core.top_up_readers(&mut core.state.lock());
        core.rescan();
        core.run_pass();
        core.rescan();
        Sampler { core, thread: None }
    }

    pub fn output(&self) -> Arc<SamplerOutput> {
        self.core.output.clone()
    }

    /// Sensors of `kind` found, and how many have a fresh value as of the
    /// latest pass.
    pub fn counts(&self, kind: SensorKind) -> (usize, usize) {
        let (set, judged) = (self.core.output.sensors(), self.core.output.judged());
        let sensors = set.of(kind);
        let up = sensors.iter().filter(|s| s.value(judged).is_some()).count();
        (sensors.len(), up)
    }

    /// Reader threads alive: the resident ones, plus one per read stuck
    /// past its deadline and not yet returned.
    pub fn reader_threads(&self) -> usize {
        self.core.state.lock().readers
    }

    /// Chooses the sensors behind `cpu_temperature_celsius`; before
    /// [`Sampler::start`] (from then on, rescans carry it over).
    pub fn select(&self, selection: Selection) {
        let output = &self.core.output;
        output.publish(output.sensors().selecting(selection));
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
    /// Stops the sampling thread (a pass in progress ends by its deadline at
    /// the latest) and lets the readers go once the queue is empty: one
    /// stuck in a read exits when the read returns.
    fn drop(&mut self) {
        self.core.state.lock().stop = true;
        self.core.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Core {
    /// Reads every idle sensor once and waits for the reads until the
    /// deadline, then accounts for the reads still outstanding.
    fn run_pass(self: &Arc<Core>) -> PassReport {
        let set = self.output.sensors();
        let sensors = || set.all();
        let deadline = Instant::now() + self.config.read_timeout;
        let mut st = self.state.lock();
        st.pass += 1;
        let pass = st.pass;
        // Each sensor is queued at most once (jobs left over from a pass that
        // ran out of time are busy, not queued again), so room for the whole
        // list is enough: the queue grows only when the list does.
        let room = set.file_count().saturating_sub(st.queue.len());
        st.queue.reserve(room);
        let before = st.queue.len();
        let idle = sensors().filter(|s| !s.busy.swap(true, Ordering::Relaxed));
        st.queue.extend(idle.map(|s| (s.clone(), pass)));
        let queued = st.queue.len() - before;
        st.pending = queued;
        self.changed.notify_all();
        while st.pending > 0 && !self.changed.wait_until(&mut st, deadline).timed_out() {}

        // Whatever is still outstanding is past its deadline: this pass's
        // jobs because the deadline passed, earlier ones a fortiori.
        let timed_out = sensors()
            .filter(|s| s.busy.load(Ordering::Relaxed))
            .inspect(|s| self.output.errors.inc(s.kind.index()))
            .count();
        self.top_up_readers(&mut st);
        drop(st);
        self.output.judged.store(pass, Ordering::Release);
        PassReport {
            pass,
            queued,
            timed_out,
        }
    }

    /// Starts readers until [`RESIDENT_READERS`] are free besides those
    /// inside a read (after a pass, each of those is stuck past a deadline),
    /// [`MAX_READERS`] at most. A thread that cannot be started leaves the
    /// pool with what it has.
    fn top_up_readers(self: &Arc<Core>, st: &mut State) {
        while st.readers < (st.reading + RESIDENT_READERS).min(MAX_READERS) {
            let core = self.clone();
            let builder = std::thread::Builder::new().name("sensor-reader".into());
            if builder.stack_size(64 * 1024).spawn(move || core.read_jobs()).is_err() {
                return;
            }
            st.readers += 1;
        }
    }

    /// A reader's life: take jobs until stopped, or until a stuck read
    /// returns to a pool with a reader too many.
    fn read_jobs(&self) {
        let mut buf = [0u8; READ_BUFFER_LEN];
        let mut st = self.state.lock();
        loop {
            let Some((sensor, pass)) = st.queue.pop_front() else {
                if st.stop {
                    st.readers -= 1;
                    return;
                }
                self.changed.wait(&mut st);
                continue;
            };
            st.reading += 1;
            let result = MutexGuard::unlocked(&mut st, || sensor.read(&mut buf));
            st.reading -= 1;
            if result.is_err() {
                self.output.errors.inc(sensor.kind.index());
            }
            // Stamped with the current pass: a late answer is as fresh as any.
            sensor.record(result, st.pass);
            sensor.busy.store(false, Ordering::Relaxed);
            if pass == st.pass {
                st.pending -= 1;
                if st.pending == 0 {
                    self.changed.notify_all();
                }
            }
            if st.readers - st.reading > RESIDENT_READERS {
                st.readers -= 1;
                return;
            }
        }
    }

    /// Lists everything anew; a trip point fault not seen at the previous
    /// scan is logged and counted, once.
    fn rescan(&self) {
        let (set, faults) = self.output.sensors().rescanned(scan(&self.config));
        for fault in faults {
            // Not `eprintln!`: with stderr's reader gone it panics, and the
            // sampling thread would die with it (every sensor then stale).
            let _ = writeln!(std::io::stderr(), "temperature: {fault}");
            self.output.errors.inc(TRIP_ERRORS);
        }
        self.output.publish(set);
    }

    /// A pass every interval (skipping ticks it overran) until the
    /// [`Sampler`] is dropped.
    fn sample_until_stopped(self: Arc<Core>) {
        let mut next = Instant::now();
        for pass in 1u64.. {
            next += self.config.interval;
            let mut st = self.state.lock();
            while !st.stop && !self.changed.wait_until(&mut st, next).timed_out() {}
            if st.stop {
                return;
            }
            let rescan = pass % u64::from(RESCAN_EVERY) == 0 && !std::mem::replace(&mut st.rescanning, true);
            drop(st);
            self.run_pass();
            if rescan {
                // Not joined: a rescan blocked in a read must hold up neither
                // sampling nor shutdown.
                let core = self.clone();
                let builder = std::thread::Builder::new().name("sensor-scanner".into());
                let spawned = builder.spawn(move || {
                    core.rescan();
                    core.state.lock().rescanning = false;
                });
                if spawned.is_err() {
                    self.state.lock().rescanning = false;
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
    use fake_sysfs::{wait_for, TestDir};
    use std::time::Duration;

    fn config(dir: &TestDir, interval_ms: u64) -> SamplerConfig {
        SamplerConfig {
            thermal_root: dir.path().join("thermal"),
            hwmon_root: dir.path().join("hwmon"),
            devices_root: dir.path().join("devices"),
            ..SamplerConfig::every(Duration::from_millis(interval_ms))
        }
    }

    fn values(sensors: &[Arc<Sensor>], judged: u64) -> Vec<Option<f64>> {
        sensors.iter().map(|s| s.value(judged)).collect()
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
        assert_eq!(sampler.counts(SensorKind::Thermal), (2, 1));
        assert_eq!(sampler.counts(SensorKind::Hwmon), (1, 1));
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
        wait_for("the zone to go", || out.sensors().zones.len() == 1);
        wait_for("the old value", || out.selected_celsius() == Some(31.0));
        drop(sampler);
    }

    #[test]
    fn publish_swaps_the_pointer() {
        let dir = TestDir::new("sampler-publish");
        let out = Sampler::new(config(&dir, 1000)).output();
        let before = out.sensors();
        assert!(before.zones.is_empty());
        out.publish(SensorSet::default());
        assert!(!Arc::ptr_eq(&before, &out.sensors()));
    }

    #[test]
    fn reads_every_sensor_and_counts_failures() {
        let dir = TestDir::new("sampler-read");
        dir.write("thermal/thermal_zone0/temp", "1000\n");
        dir.write("thermal/thermal_zone1/temp", "garbage\n");
        std::fs::create_dir_all(dir.path().join("thermal/thermal_zone2")).unwrap(); // no temp
        dir.write("thermal/thermal_zone3/temp", "-2500\n");
        let sampler = Sampler::new(config(&dir, 10_000));
        let errors = sampler.output().errors.clone();
        assert_eq!(errors.get(SensorKind::Thermal.index()), 2, "the first pass");
        let report = sampler.run_pass();
        assert_eq!(
            report,
            PassReport {
                pass: 2,
                queued: 4,
                timed_out: 0
            }
        );
        let zones = sampler.output().sensors().zones.clone();
        assert_eq!(values(&zones, report.pass), [Some(1.0), None, None, Some(-2.5)]);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 4);
        assert_eq!(sampler.reader_threads(), RESIDENT_READERS);
    }

    #[test]
    fn a_hanging_read_is_written_off_and_others_go_on() {
        let dir = TestDir::new("sampler-hang");
        let good = dir.write("thermal/thermal_zone1/temp", "1000\n");
        dir.write("thermal/thermal_zone2/temp", "2000\n");
        let deadline = Duration::from_millis(250);
        let sampler = Sampler::new(SamplerConfig {
            read_timeout: deadline,
            ..config(&dir, 1000)
        });
        let errors = sampler.output().errors.clone();
        assert_eq!(errors.get(SensorKind::Thermal.index()), 0);
        // Zone 0 arrives with a `temp` whose open hangs.
        let fifo = dir.fifo("thermal/thermal_zone0/temp");
        sampler.core.rescan();
        let zones = sampler.output().sensors().zones.clone();

        let started = Instant::now();
        let report = sampler.run_pass();
        assert!(
            started.elapsed() < deadline * 20,
            "a pass waits for its deadline, not for the hang"
        );
        assert_eq!((report.queued, report.timed_out), (3, 1));
        assert_eq!(values(&zones, report.pass), [None, Some(1.0), Some(2.0)]);
        assert_eq!(
            sampler.reader_threads(),
            RESIDENT_READERS + 1,
            "one replacement for the blocked reader"
        );

        // While it hangs, the sensor is not queued again (one thread at
        // most), each pass counts it once, and the others keep updating.
        std::fs::write(&good, "3000\n").unwrap();
        let mut judged = 0;
        for _ in 0..3 {
            let report = sampler.run_pass();
            assert_eq!((report.queued, report.timed_out), (2, 1));
            judged = report.pass;
        }
        assert_eq!(values(&zones, judged)[..2], [None, Some(3.0)]);
        assert_eq!(sampler.reader_threads(), RESIDENT_READERS + 1);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 4);

        // Released: the blocked open returns, pread on a FIFO fails
        // (ESPIPE), and the surplus reader retires.
        let writer = TestDir::release_fifo(&fifo).expect("a reader is waiting on the FIFO");
        wait_for("the blocked reader to retire", || {
            sampler.reader_threads() == RESIDENT_READERS
        });
        assert_eq!(errors.get(SensorKind::Thermal.index()), 5);
        drop(writer);
        std::fs::remove_file(&fifo).unwrap();
        std::fs::write(&fifo, "4000\n").unwrap();
        let report = sampler.run_pass();
        assert_eq!((report.queued, report.timed_out), (3, 0));
        assert_eq!(zones[0].value(report.pass), Some(4.0));
    }

    #[test]
    fn dropping_the_sampler_stops_idle_readers() {
        let dir = TestDir::new("sampler-drop");
        let sampler = Sampler::new(config(&dir, 1000));
        let core = sampler.core.clone();
        assert_eq!(core.state.lock().readers, RESIDENT_READERS);
        drop(sampler);
        wait_for("readers to exit", || core.state.lock().readers == 0);
    }
}
