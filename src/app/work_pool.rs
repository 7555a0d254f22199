//! `/work/{duration}`: CPU time burnt on a bounded pool of threads of its
//! own, never on a worker, so scrapes and other requests go on being served
//! while pods look busy to a CPU-utilisation HPA.
//!
//! One slot per thread and no queue: a job that finds every thread busy is
//! refused (the caller answers `503`), so load beyond the pool's capacity
//! cannot pile up. Threads start on first use and park when idle.
//!
//! A job is named by its slot and the slot's generation: the thread bumps
//! the generation and frees the slot as soon as the burn is over, so a
//! connection that goes away before collecting its answer leaks nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::Duration;

use parking_lot::Mutex;

use crate::grammar::{in_range, number};

/// The longest `/work/{duration}`: a pod is made busy by many short jobs,
/// not by one that holds a thread (and a shutdown) for long.
pub(crate) const MAX_WORK: Duration = Duration::from_secs(1);

/// Most threads `--work-threads` may ask for (a job number keeps 8 bits for the slot).
pub(super) const MAX_THREADS: usize = 256;

const GENERATION_BITS: u32 = 24;

/// A bounded set of CPU-burning threads.
pub(crate) struct WorkPool {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Box<[Slot]>,
    stopping: AtomicBool,
}

struct Slot {
    busy: AtomicBool,
    /// Bumped when a job ends: what its waiter watches.
    generation: AtomicU32,
    burn_nanos: AtomicU64,
    started: AtomicBool,
    waker: Mutex<Option<Waker>>,
    thread: OnceLock<Option<Thread>>,
}

impl WorkPool {
    /// A pool of `threads` (1..=[`MAX_THREADS`]); none is started yet.
    pub(crate) fn new(threads: usize) -> WorkPool {
        let slots = (0..threads.clamp(1, MAX_THREADS))
            .map(|_| Slot {
                busy: AtomicBool::new(false),
                generation: AtomicU32::new(0),
                burn_nanos: AtomicU64::new(0),
                started: AtomicBool::new(false),
                waker: Mutex::new(None),
                thread: OnceLock::new(),
            })
            .collect();
        WorkPool {
            inner: Arc::new(Inner {
                slots,
                stopping: AtomicBool::new(false),
            }),
        }
    }

    /// Starts burning `cpu` on a free thread; `None` when all are busy.
    /// The number returned is what [`WorkPool::done`] waits on.
    pub(crate) fn start(&self, cpu: Duration) -> Option<u32> {
        let (index, slot) = self.inner.slots.iter().enumerate().find(|(_, s)| {
            s.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        let thread = slot.thread.get_or_init(|| spawn_burner(self.inner.clone(), index));
        let Some(thread) = thread else {
            slot.busy.store(false, Ordering::Release);
            return None;
        };
        let generation = slot.generation.load(Ordering::Acquire);
        slot.burn_nanos.store(cpu.as_nanos() as u64, Ordering::Relaxed);
        slot.started.store(true, Ordering::Release);
        thread.unpark();
        Some(((index as u32) << GENERATION_BITS) | (generation & ((1 << GENERATION_BITS) - 1)))
    }

    /// Completes when job `job` has burnt its CPU time.
    pub(crate) fn done(&self, job: u32) -> JobDone<'_> {
        JobDone { pool: self, job }
    }
}

impl Drop for WorkPool {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::Release);
        for slot in self.inner.slots.iter() {
            if let Some(Some(t)) = slot.thread.get() {
                t.unpark();
            }
        }
    }
}

/// The future of [`WorkPool::done`].
pub(crate) struct JobDone<'a> {
    pool: &'a WorkPool,
    job: u32,
}

impl Future for JobDone<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(slot) = self.pool.inner.slots.get((self.job >> GENERATION_BITS) as usize) else {
            return Poll::Ready(());
        };
        let ended = |slot: &Slot| {
            slot.generation.load(Ordering::Acquire) & ((1 << GENERATION_BITS) - 1)
                != self.job & ((1 << GENERATION_BITS) - 1)
        };
        if ended(slot) {
            return Poll::Ready(());
        }
        *slot.waker.lock() = Some(cx.waker().clone());
        // Checked again after registering: the job may have ended in between.
        if ended(slot) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn spawn_burner(inner: Arc<Inner>, index: usize) -> Option<Thread> {
    std::thread::Builder::new()
        .name(format!("work-{index}"))
        .spawn(move || burner(&inner, index))
        .map(|handle| handle.thread().clone())
        .ok()
}

/// One pool thread: waits for a job, burns it, signals its end.
fn burner(inner: &Inner, index: usize) {
    let slot = &inner.slots[index];
    loop {
        while !slot.started.swap(false, Ordering::Acquire) {
            if inner.stopping.load(Ordering::Acquire) {
                return;
            }
            std::thread::park();
        }
        burn(Duration::from_nanos(slot.burn_nanos.load(Ordering::Relaxed)));
        slot.generation.fetch_add(1, Ordering::AcqRel);
        slot.busy.store(false, Ordering::Release);
        if let Some(waker) = slot.waker.lock().take() {
            waker.wake();
        }
    }
}

/// Spins until this thread has used `cpu` of CPU time (not wall time: a
/// preempted thread keeps burning until it really has used its share).
fn burn(cpu: Duration) {
    let until = thread_cpu_time() + cpu;
    let mut x = 1u64;
    while thread_cpu_time() < until {
        // A few microseconds of arithmetic between two clock reads (each a system call).
        for _ in 0..20_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is
    // supported on Linux and macOS.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Parses `--work-threads`: 1 to [`MAX_THREADS`].
pub(crate) fn parse_threads(s: &str) -> Result<usize, String> {
    in_range(number(s), 1..=MAX_THREADS, "expected a number of threads from 1 to 256")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_capacity_and_frees_slots() {
        let pool = WorkPool::new(1);
        let job = pool.start(Duration::from_millis(50)).expect("a free thread");
        assert_eq!(pool.start(Duration::from_millis(1)), None);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(pool.done(job));
        // The slot frees itself right after the generation moves.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let second = loop {
            if let Some(j) = pool.start(Duration::from_millis(1)) {
                break j;
            }
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_ne!(job, second);
        rt.block_on(pool.done(second));
    }

    #[test]
    fn burns_cpu_time() {
        let before = thread_cpu_time();
        burn(Duration::from_millis(30));
        assert!(thread_cpu_time() - before >= Duration::from_millis(30));
    }
}
