//! [`Handler`]: what the HTTP layer asks of the application. The only
//! thing the connection and the session know of it.

use super::deferred::Deferred;
use super::request::{Rejection, Request};
use super::response::ResponseWriter;
use super::status::Status;

/// What a connection calls to answer requests: the application side.
///
/// Both methods append exactly one response to the writer; the implementation
/// is where requests are counted, so every response is counted once.
pub trait Handler: Send + Sync + 'static {
    /// What the handler notes about an answer it defers, handed back to
    /// [`finish`](Self::finish) (`()` for handlers that never defer).
    type Note: Copy + Send + Sync + 'static;

    /// Answers a well-formed request.
    fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_, Self::Note>);
    /// Answers a request that is refused before routing: a head that could
    /// not be parsed or broke a limit, or one that never completed in time.
    /// The connection closes after it.
    fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_, Self::Note>);

    /// Writes the answer to a request that [`handle`](Self::handle)
    /// [deferred](ResponseWriter::defer), once its wait is over. Handlers
    /// that never defer keep this default.
    fn finish(&self, deferred: Deferred<Self::Note>, res: &mut ResponseWriter<'_, Self::Note>) {
        let _ = deferred;
        res.respond(Status::InternalServerError, &[], "text/plain", b"");
    }

    /// Completes when the job behind `Wait::Job` is done. Handlers that
    /// start no jobs keep this default.
    fn job_done(&self, job: u32) -> impl std::future::Future<Output = ()> + Send + '_ {
        let _ = job;
        std::future::ready(())
    }
}
