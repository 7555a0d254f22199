//! Reader threads that perform sensor reads, so that a read that hangs
//! (Linux cannot cancel a read stuck in a driver) holds up one thread and
//! nothing else. A pass queues one read per idle sensor and waits for them
//! until its deadline; then every read still outstanding counts one error
//! and its sensor's value goes stale, every reader stuck in a read gets a
//! replacement (up to [`MAX_READERS`]) so that [`RESIDENT_READERS`] stay
//! free, and a surplus reader exits once its stuck read returns. A sensor
//! with a read outstanding is not queued again: a hanging sensor ties up at
//! most one thread. docs/sensors.md ("Hanging reads") tells why.
//!
//! One lock and one condition variable: readers wait on it for jobs, a pass
//! for its last job. In steady state a pass allocates nothing: the queue
//! keeps its capacity, jobs are `Arc` clones, each reader owns its buffer.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::sensor::{Sensor, READ_BUFFER_LEN};
use crate::metrics::CounterVec;

/// Readers kept free while nothing hangs: one can read while another is slow.
pub const RESIDENT_READERS: usize = 2;
/// Upper bound on reader threads, stuck ones included.
pub(crate) const MAX_READERS: usize = 16;

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

pub(super) struct ReaderPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when jobs are queued, when a pass's last job is done, and on stop.
    changed: Condvar,
    deadline: Duration,
    /// `temperature_sensor_read_errors_total`, indexed by `SensorKind::index`.
    errors: Arc<CounterVec>,
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
    stop: bool,
}

impl ReaderPool {
    /// Starts the resident readers. A read outstanding for longer than
    /// `deadline` is a timeout.
    pub(super) fn new(deadline: Duration, errors: Arc<CounterVec>) -> ReaderPool {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            deadline,
            errors,
        });
        let mut st = shared.state.lock();
        while st.readers < RESIDENT_READERS && spawn_reader(&shared, &mut st) {}
        drop(st);
        ReaderPool { shared }
    }

    /// Reader threads alive (resident, replacements and stuck ones).
    pub(super) fn readers(&self) -> usize {
        self.shared.state.lock().readers
    }

    /// Reads every idle sensor of `lists` once and waits for the reads until
    /// the deadline, then accounts for the reads still outstanding.
    pub(super) fn run_pass(&self, lists: &[&[Arc<Sensor>]]) -> PassReport {
        let shared = &self.shared;
        let deadline = Instant::now() + shared.deadline;
        let sensors = || lists.iter().flat_map(|l| l.iter());
        let mut st = shared.state.lock();
        st.pass += 1;
        let pass = st.pass;
        // Each sensor is queued at most once (jobs left over from a pass that
        // ran out of time are busy, not queued again), so room for the whole
        // list is enough: the queue grows only when the list does.
        let room = lists
            .iter()
            .map(|l| l.len())
            .sum::<usize>()
            .saturating_sub(st.queue.len());
        st.queue.reserve(room);
        let mut queued = 0;
        for sensor in sensors().filter(|s| !s.busy.swap(true, Ordering::Relaxed)) {
            st.queue.push_back((sensor.clone(), pass));
            queued += 1;
        }
        st.pending = queued;
        shared.changed.notify_all();
        while st.pending > 0 && !shared.changed.wait_until(&mut st, deadline).timed_out() {}

        // Whatever is still outstanding is past its deadline: this pass's
        // jobs because the deadline passed, earlier ones a fortiori.
        let mut timed_out = 0;
        for sensor in sensors().filter(|s| s.busy.load(Ordering::Relaxed)) {
            timed_out += 1;
            shared.errors.inc(sensor.kind.index());
        }
        // Every reader inside a read now is stuck past a deadline: keep
        // RESIDENT_READERS free besides them.
        let wanted = (st.reading + RESIDENT_READERS).min(MAX_READERS);
        while st.readers < wanted && spawn_reader(shared, &mut st) {}
        PassReport {
            pass,
            queued,
            timed_out,
        }
    }

    /// Lets the readers go: idle ones exit now, one stuck in a read exits
    /// when the read returns. A pass run after this times out every read.
    pub(super) fn stop(&self) {
        self.shared.state.lock().stop = true;
        self.shared.changed.notify_all();
    }
}

impl Drop for ReaderPool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts one reader and counts it under the caller's lock; false if the
/// thread could not be started (the pool carries on with what it has).
fn spawn_reader(shared: &Arc<Shared>, st: &mut State) -> bool {
    let for_thread = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("sensor-reader".into())
        .stack_size(64 * 1024)
        .spawn(move || reader_loop(&for_thread));
    st.readers += usize::from(spawned.is_ok());
    spawned.is_ok()
}

fn reader_loop(shared: &Shared) {
    let mut buf = [0u8; READ_BUFFER_LEN];
    let mut st = shared.state.lock();
    loop {
        let (sensor, pass) = loop {
            if st.stop {
                st.readers -= 1;
                return;
            }
            if let Some(job) = st.queue.pop_front() {
                break job;
            }
            shared.changed.wait(&mut st);
        };
        st.reading += 1;
        let result = MutexGuard::unlocked(&mut st, || sensor.read(&mut buf));
        st.reading -= 1;
        if result.is_err() {
            shared.errors.inc(sensor.kind.index());
        }
        // Stamped with the current pass: a late answer is as fresh as any.
        sensor.latest.record(result, st.pass);
        sensor.busy.store(false, Ordering::Relaxed);
        if pass == st.pass {
            st.pending -= 1;
            if st.pending == 0 {
                shared.changed.notify_all();
            }
        }
        // More free readers than wanted: a stuck read returned, one retires.
        if st.readers - st.reading > RESIDENT_READERS {
            st.readers -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Desc, MetricType};
    use crate::temperature::sysfs::sensor::SensorKind;
    use crate::temperature::sysfs::test_dir::{wait_for, TestDir};
    use std::path::PathBuf;

    fn errors() -> Arc<CounterVec> {
        let desc = Desc::new("e", "", MetricType::Counter, &["source"]).unwrap();
        Arc::new(CounterVec::new(desc, &[&["thermal"], &["hwmon"]], |_| true))
    }

    fn sensor(path: PathBuf) -> Arc<Sensor> {
        Arc::new(Sensor::new(
            SensorKind::Thermal,
            path,
            vec!["z".into(), "t".into()],
            vec![],
        ))
    }

    fn values(sensors: &[Arc<Sensor>], judged: u64) -> Vec<Option<f64>> {
        sensors.iter().map(|s| s.celsius(judged)).collect()
    }

    #[test]
    fn reads_every_sensor_and_counts_failures() {
        let dir = TestDir::new("pool-read");
        let sensors = vec![
            sensor(dir.write("a", "1000\n")),
            sensor(dir.write("b", "garbage\n")),
            sensor(dir.path().join("missing")),
            sensor(dir.write("c", "-2500\n")),
        ];
        let errors = errors();
        let pool = ReaderPool::new(Duration::from_secs(5), errors.clone());
        let report = pool.run_pass(&[&sensors]);
        assert_eq!(
            report,
            PassReport {
                pass: 1,
                queued: 4,
                timed_out: 0
            }
        );
        assert_eq!(values(&sensors, report.pass), [Some(1.0), None, None, Some(-2.5)]);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 2);
        pool.run_pass(&[&sensors]);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 4);
        assert_eq!(pool.readers(), RESIDENT_READERS);
    }

    #[test]
    fn a_hanging_read_is_written_off_and_others_go_on() {
        let dir = TestDir::new("pool-hang");
        let fifo = dir.fifo("hang");
        let good = dir.write("good", "1000\n");
        let sensors = vec![
            sensor(fifo.clone()),
            sensor(good.clone()),
            sensor(dir.write("other", "2000\n")),
        ];
        let errors = errors();
        let deadline = Duration::from_millis(250);
        let pool = ReaderPool::new(deadline, errors.clone());

        let started = Instant::now();
        let report = pool.run_pass(&[&sensors]);
        assert!(
            started.elapsed() < deadline * 20,
            "a pass waits for its deadline, not for the hang"
        );
        assert_eq!((report.queued, report.timed_out), (3, 1));
        assert_eq!(values(&sensors, report.pass), [None, Some(1.0), Some(2.0)]);
        assert_eq!(
            pool.readers(),
            RESIDENT_READERS + 1,
            "one replacement for the blocked reader"
        );

        // While it hangs, the sensor is not queued again (one thread at
        // most), each pass counts it once, and the others keep updating.
        std::fs::write(&good, "3000\n").unwrap();
        let mut judged = 0;
        for _ in 0..3 {
            let report = pool.run_pass(&[&sensors]);
            assert_eq!((report.queued, report.timed_out), (2, 1));
            judged = report.pass;
        }
        assert_eq!(values(&sensors, judged)[..2], [None, Some(3.0)]);
        assert_eq!(pool.readers(), RESIDENT_READERS + 1);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 4);

        // Released: the blocked open returns, pread on a FIFO fails
        // (ESPIPE), and the surplus reader retires.
        let writer = TestDir::release_fifo(&fifo).expect("a reader is waiting on the FIFO");
        wait_for("the blocked reader to retire", || pool.readers() == RESIDENT_READERS);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 5);
        drop(writer);
        std::fs::remove_file(&fifo).unwrap();
        std::fs::write(&fifo, "4000\n").unwrap();
        let report = pool.run_pass(&[&sensors]);
        assert_eq!((report.queued, report.timed_out), (3, 0));
        assert_eq!(sensors[0].celsius(report.pass), Some(4.0));
    }

    #[test]
    fn dropping_the_pool_stops_idle_readers() {
        let pool = ReaderPool::new(Duration::from_secs(1), errors());
        let shared = pool.shared.clone();
        drop(pool);
        wait_for("readers to exit", || shared.state.lock().readers == 0);
    }
}
