//! `--max-connections`: a count of open connections shared by the workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Open connections across all workers, and their maximum.
#[derive(Debug)]
pub struct ConnectionLimit {
    open: AtomicUsize,
    max: usize,
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            open: AtomicUsize::new(0),
            max: max.max(1),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub fn is_full(&self) -> bool {
        self.open() >= self.max
    }

    /// Counts one connection until the returned slot is dropped. (Workers may
    /// overshoot `max` by one connection each when they accept at once.)
    pub fn acquire(self: &Arc<Self>) -> ConnectionSlot {
        self.open.fetch_add(1, Ordering::Relaxed);
        ConnectionSlot(self.clone())
    }
}

/// One open connection; releases its count when dropped (also on a panic).
pub struct ConnectionSlot(Arc<ConnectionLimit>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
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
