//! This worker thread's connections as the worker sees them: how many tasks
//! are alive (none means the accept loop may block in `accept4`), how many
//! are in the middle of a request (a shutdown waits for those), and the
//! signal a draining worker waits on.
//!
//! Thread-local cells, not atomics: a connection never leaves its worker.

use std::cell::Cell;

use tokio::sync::Notify;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static BUSY: Cell<usize> = const { Cell::new(0) };
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Wakes draining workers when one of their busy counts reaches zero; only
/// touched during a shutdown, so requests never take its lock.
static DRAINED: Notify = Notify::const_new();

/// Connection tasks alive on this worker thread.
pub(super) fn live_connections() -> usize {
    LIVE.with(Cell::get)
}

/// Connections on this worker thread in the middle of a request.
pub(super) fn busy_connections() -> usize {
    BUSY.with(Cell::get)
}

/// Completes once no connection of this worker thread is busy; from then on
/// (the worker is draining) each one that finishes its request wakes it.
pub(super) async fn until_none_busy() {
    DRAINING.with(|d| d.set(true));
    loop {
        let drained = DRAINED.notified();
        tokio::pin!(drained);
        // Registered before the check, so a wake-up in between is not lost.
        drained.as_mut().enable();
        if busy_connections() == 0 {
            return;
        }
        drained.await;
    }
}

/// Counts its connection task as alive while it exists.
pub(super) struct LiveMark(());

impl LiveMark {
    pub(super) fn new() -> LiveMark {
        LIVE.with(|l| l.set(l.get() + 1));
        LiveMark(())
    }
}

impl Drop for LiveMark {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

/// Marks its connection busy in this thread's count while set.
#[derive(Default)]
pub(super) struct BusyMark(bool);

impl BusyMark {
    pub(super) fn set(&mut self, busy: bool) {
        if busy == self.0 {
            return;
        }
        self.0 = busy;
        let now = BUSY.with(|b| {
            let n = if busy { b.get() + 1 } else { b.get() - 1 };
            b.set(n);
            n
        });
        if now == 0 && DRAINING.with(Cell::get) {
            DRAINED.notify_waiters();
        }
    }
}

impl Drop for BusyMark {
    fn drop(&mut self) {
        self.set(false);
    }
}
