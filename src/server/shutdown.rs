//! The shutdown signal, passed explicitly to whoever must react to it.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Set once (SIGTERM, SIGINT, or a test); never cleared.
#[derive(Default)]
pub struct Shutdown {
    triggered: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Starts the shutdown: readiness fails, listeners close, connections drain.
    pub fn trigger(&self) {
        self.triggered.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// One atomic load: cheap enough for the request path.
    #[inline]
    pub fn is_triggered(&self) -> bool {
        self.triggered.load(Ordering::Relaxed)
    }

    /// Completes once [`trigger`](Self::trigger) has been called.
    pub async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        // Register before checking the flag, so a trigger in between is not missed.
        notified.as_mut().enable();
        if self.triggered.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn wait_completes_after_trigger_from_another_thread() {
        let s = Arc::new(Shutdown::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let s2 = s.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            s2.trigger();
        });
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), s.wait())
                .await
                .expect("woken");
        });
        t.join().unwrap();
        assert!(s.is_triggered());
        // Waiting after the trigger returns at once.
        rt.block_on(s.wait());
    }
}
