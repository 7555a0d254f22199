//! `--max-connections`: a count of open connections shared by the workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Open connections across all workers, and their maximum.
#[derive(Debug)]
pub(crate) struct ConnectionLimit {
    open: AtomicUsize,
    max: usize,
    /// Woken when a slot frees up at the limit (only then: no lock per close).
    released: Notify,
}

impl ConnectionLimit {
    pub(crate) fn new(max: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            open: AtomicUsize::new(0),
            max: max.max(1),
            released: Notify::new(),
        })
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub(crate) fn is_full(&self) -> bool {
        self.open() >= self.max
    }

    /// Completes once a connection can be accepted without passing the limit.
    pub(crate) async fn until_not_full(&self) {
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            // Registered before the check, so a release in between is not lost.
            released.as_mut().enable();
            if !self.is_full() {
                return;
            }
            released.await;
        }
    }

    /// Counts one connection until the returned slot is dropped. (Workers may
    /// overshoot `max` by one connection each when they accept at once.)
    pub(crate) fn acquire(self: &Arc<Self>) -> ConnectionSlot {
        self.open.fetch_add(1, Ordering::Relaxed);
        ConnectionSlot(self.clone())
    }
}

/// One open connection; releases its count when dropped (also on a panic).
pub(crate) struct ConnectionSlot(Arc<ConnectionLimit>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::Relaxed) >= self.0.max {
            self.0.released.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slots() {
        let l = ConnectionLimit::new(2);
        let a = l.acquire();
        assert!(!l.is_full());
        let b = l.acquire();
        assert!(l.is_full());
        drop(a);
        assert_eq!(l.open(), 1);
        drop(b);
        assert_eq!(l.open(), 0);
    }
}
