//! Reader threads that perform sensor reads, so that a read that hangs
//! holds up one thread and nothing else.
//!
//! Linux cannot cancel a read stuck inside a driver (an I2C bus that never
//! answers leaves the thread in uninterruptible sleep), so the only way to
//! keep other sensors and the sampler going is to read on threads that can
//! be given up on. A pass queues one read per idle sensor and waits for them
//! until its deadline; two resident readers take the queue. At the deadline:
//!
//! - every read still outstanding marks its sensor down and counts one
//!   error (every pass it stays outstanding);
//! - a reader blocked past the deadline is written off: a replacement reader
//!   is started so the others keep their pace, and the blocked one exits
//!   when (if ever) its read returns;
//! - a sensor with a read outstanding is not queued again, so a hanging
//!   sensor ties up at most one thread, however long it hangs.
//!
//! Threads are capped at [`MAX_READERS`]; past that, further hung sensors
//! delay the queue instead of adding threads.
//!
//! In steady state a pass allocates nothing: the queue keeps its capacity,
//! jobs are `Arc` clones, and each reader owns its read buffer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::sensor::{Sensor, READ_BUFFER_LEN};
use crate::metrics::CounterVec;

/// Readers kept alive while nothing hangs: one can read while another is slow.
pub const RESIDENT_READERS: usize = 2;
/// Upper bound on reader threads, hung ones included.
pub const MAX_READERS: usize = 16;

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const READING: u8 = 2;

/// Per-sensor bookkeeping of the pool. Changed only under the pool's lock,
/// which orders it; the atomics just make it shareable.
#[derive(Default)]
pub struct JobSlot {
    state: AtomicU8,
    /// When the read was queued, in nanoseconds since the pool's epoch.
    queued_at: AtomicU64,
    /// The read outlived its deadline and its reader was replaced.
    written_off: AtomicBool,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Reads queued by this pass.
    pub queued: usize,
    /// Reads (of this pass or earlier ones) still outstanding past the deadline.
    pub timed_out: usize,
}

pub struct ReaderPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Readers wait here for jobs.
    work: Condvar,
    /// A pass waits here for its jobs.
    done: Condvar,
    epoch: Instant,
    deadline: Duration,
    /// `temperature_sensor_read_errors_total`, indexed by `SensorKind::index`.
    errors: Arc<CounterVec>,
}

struct State {
    queue: VecDeque<(Arc<Sensor>, u64)>,
    /// Number of the current pass; a job carries the pass that queued it.
    pass: u64,
    /// Jobs of the current pass not finished yet.
    pending: usize,
    /// Sensors being read right now, one per busy reader (capacity
    /// `MAX_READERS`, so it never grows). Kept apart from the sensor lists
    /// so that a blocked reader is replaced even after a rescan dropped its
    /// sensor.
    in_flight: Vec<Arc<Sensor>>,
    /// Reader threads alive, written-off ones included.
    readers: usize,
    stop: bool,
}

impl ReaderPool {
    /// Starts the resident readers. A read outstanding for longer than
    /// `deadline` is a timeout.
    pub fn new(deadline: Duration, errors: Arc<CounterVec>) -> ReaderPool {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                pass: 0,
                pending: 0,
                in_flight: Vec::with_capacity(MAX_READERS),
                readers: 0,
                stop: false,
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            epoch: Instant::now(),
            deadline,
            errors,
        });
        let mut st = shared.state.lock();
        for _ in 0..RESIDENT_READERS {
            spawn_reader(&shared, &mut st);
        }
        drop(st);
        ReaderPool { shared }
    }

    /// Reader threads alive (resident, replacements and written-off ones).
    pub fn readers(&self) -> usize {
        self.shared.state.lock().readers
    }

    /// Reads every idle sensor of `lists` once and waits for the reads until
    /// the deadline, then accounts for the reads still outstanding.
    pub fn run_pass(&self, lists: &[&[Arc<Sensor>]]) -> PassReport {
        let shared = &self.shared;
        let started = Instant::now();
        let mut st = shared.state.lock();
        st.pass += 1;
        let pass = st.pass;
        // Grows only when the sensor list does.
        st.queue.reserve(lists.iter().map(|l| l.len()).sum());
        let queued_at = shared.nanos(started);
        let mut queued = 0;
        for sensor in lists.iter().flat_map(|l| l.iter()) {
            if sensor.job.state.load(Ordering::Relaxed) == IDLE {
                sensor.job.state.store(QUEUED, Ordering::Relaxed);
                sensor.job.queued_at.store(queued_at, Ordering::Relaxed);
                st.queue.push_back((sensor.clone(), pass));
                queued += 1;
            }
        }
        st.pending = queued;
        if queued > 0 {
            shared.work.notify_all();
        }
        let deadline_at = started + shared.deadline;
        while st.pending > 0 {
            if shared.done.wait_until(&mut st, deadline_at).timed_out() {
                break;
            }
        }
        let timed_out = write_off_overdue(shared, &mut st, lists);
        PassReport { queued, timed_out }
    }

    /// Lets the readers go: idle ones exit now, one stuck in a read exits
    /// when the read returns. A pass run after this times out every read.
    pub fn stop(&self) {
        self.shared.state.lock().stop = true;
        self.shared.work.notify_all();
    }
}

impl Drop for ReaderPool {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn nanos(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }
}

/// Marks down and counts every listed sensor whose read is overdue, and
/// replaces the readers blocked past the deadline. Returns how many listed
/// reads are overdue.
fn write_off_overdue(shared: &Arc<Shared>, st: &mut State, lists: &[&[Arc<Sensor>]]) -> usize {
    let now = shared.nanos(Instant::now());
    let limit = shared.deadline.as_nanos() as u64;
    let overdue_since = |sensor: &Sensor| now.saturating_sub(sensor.job.queued_at.load(Ordering::Relaxed)) >= limit;
    let mut overdue = 0;
    for sensor in lists.iter().flat_map(|l| l.iter()) {
        if sensor.job.state.load(Ordering::Relaxed) != IDLE && overdue_since(sensor) {
            overdue += 1;
            sensor.mark_down();
            shared.errors.inc(sensor.kind().index());
        }
    }
    // Only a read in progress holds a thread; a queued one is waiting for a
    // free reader, which the replacement of a blocked one provides.
    let mut replacements = 0;
    for sensor in &st.in_flight {
        let written_off = &sensor.job.written_off;
        if overdue_since(sensor) && !written_off.load(Ordering::Relaxed) && st.readers + replacements < MAX_READERS {
            written_off.store(true, Ordering::Relaxed);
            replacements += 1;
        }
    }
    for _ in 0..replacements {
        spawn_reader(shared, st);
    }
    overdue
}

/// Starts one reader; counts it under the lock held by the caller.
fn spawn_reader(shared: &Arc<Shared>, st: &mut State) {
    let for_thread = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("sensor-reader".into())
        .stack_size(64 * 1024)
        .spawn(move || reader_loop(&for_thread));
    // Without a new thread the pool carries on with the readers it has.
    if spawned.is_ok() {
        st.readers += 1;
    }
}

fn reader_loop(shared: &Arc<Shared>) {
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
            shared.work.wait(&mut st);
        };
        sensor.job.state.store(READING, Ordering::Relaxed);
        st.in_flight.push(sensor.clone());
        let failed = MutexGuard::unlocked(&mut st, || sensor.read(&mut buf).is_err());
        if failed {
            shared.errors.inc(sensor.kind().index());
        }
        sensor.job.state.store(IDLE, Ordering::Relaxed);
        if let Some(i) = st.in_flight.iter().position(|s| Arc::ptr_eq(s, &sensor)) {
            st.in_flight.swap_remove(i);
        }
        if pass == st.pass {
            st.pending -= 1;
            if st.pending == 0 {
                shared.done.notify_all();
            }
        }
        if sensor.job.written_off.swap(false, Ordering::Relaxed) {
            // A replacement took this reader's place while it was blocked.
            st.readers -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Desc, MetricType};
    use crate::temperature::sysfs::sensor::{FoundSensor, SensorKind};
    use crate::temperature::sysfs::test_dir::{wait_for, TestDir};
    use std::path::PathBuf;

    fn errors() -> Arc<CounterVec> {
        let desc = Desc::new("e", "", MetricType::Counter, &["source"]).unwrap();
        Arc::new(CounterVec::new(desc, &[&["thermal"], &["hwmon"]], |_| true))
    }

    fn sensor(path: PathBuf) -> Arc<Sensor> {
        Arc::new(Sensor::new(FoundSensor {
            kind: SensorKind::Thermal,
            path,
            labels: vec!["z".into(), "t".into()],
            aliases: vec![],
        }))
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
                queued: 4,
                timed_out: 0
            }
        );
        let values: Vec<_> = sensors.iter().map(|s| s.celsius()).collect();
        assert_eq!(values, [Some(1.0), None, None, Some(-2.5)]);
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
        assert_eq!(
            report,
            PassReport {
                queued: 3,
                timed_out: 1
            }
        );
        assert_eq!(sensors[0].celsius(), None);
        assert_eq!((sensors[1].celsius(), sensors[2].celsius()), (Some(1.0), Some(2.0)));
        assert_eq!(
            pool.readers(),
            RESIDENT_READERS + 1,
            "one replacement for the blocked reader"
        );

        // While it hangs, the sensor is not queued again (one thread at
        // most), each pass counts it once, and the others keep updating.
        std::fs::write(&good, "3000\n").unwrap();
        for _ in 0..3 {
            let report = pool.run_pass(&[&sensors]);
            assert_eq!(
                report,
                PassReport {
                    queued: 2,
                    timed_out: 1
                }
            );
        }
        assert_eq!(sensors[1].celsius(), Some(3.0));
        assert_eq!(pool.readers(), RESIDENT_READERS + 1);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 4);

        // Released: the blocked open returns, pread on a FIFO fails
        // (ESPIPE), and the written-off reader retires.
        let writer = TestDir::release_fifo(&fifo).expect("a reader is waiting on the FIFO");
        wait_for("the blocked reader to retire", || pool.readers() == RESIDENT_READERS);
        assert_eq!(errors.get(SensorKind::Thermal.index()), 5);
        drop(writer);
        std::fs::remove_file(&fifo).unwrap();
        std::fs::write(&fifo, "4000\n").unwrap();
        assert_eq!(
            pool.run_pass(&[&sensors]),
            PassReport {
                queued: 3,
                timed_out: 0
            }
        );
        assert_eq!(sensors[0].celsius(), Some(4.0));
    }

    #[test]
    fn dropping_the_pool_stops_idle_readers() {
        let pool = ReaderPool::new(Duration::from_secs(1), errors());
        let shared = pool.shared.clone();
        drop(pool);
        wait_for("readers to exit", || shared.state.lock().readers == 0);
    }
}
