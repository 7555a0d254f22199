//! Waiting out a [`Deferred`] response on the connection's task: a timer for
//! a delay, the handler's job for CPU work. The worker thread serves other
//! connections meanwhile.

use crate::http::{Deferred, Handler, Wait};

/// Completes when `deferred`'s answer may be written.
pub async fn wait<H: Handler + ?Sized>(handler: &H, deferred: Deferred) {
    match deferred.wait {
        Wait::Until(at) => tokio::time::sleep_until(at.into()).await,
        Wait::Job(job) => handler.job_done(job).await,
    }
}
