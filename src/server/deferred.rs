//! Waiting out a deferred response on the connection's task: a timer for
//! a delay, the handler's job for CPU work. The worker thread serves other
//! connections meanwhile.

use crate::http::{Handler, Wait};

/// Completes when an answer deferred until `wait` may be written.
pub(super) async fn wait<H: Handler + ?Sized>(handler: &H, wait: Wait) {
    match wait {
        Wait::Until(at) => tokio::time::sleep_until(at.into()).await,
        Wait::Job(job) => handler.job_done(job).await,
    }
}
