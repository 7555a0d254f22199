//! `Deferred`: a response the handler has decided on but that must wait
//! (a delay, CPU work on another thread) before it is written.
//!
//! The session stops after such a request and hands the `Deferred` to the
//! connection, which waits without holding the worker (other connections go
//! on being served), then has the session write the answer. A small `Copy`
//! value, so deferring allocates nothing and the connection loop only
//! passes it along.

use std::time::Instant;

/// What a deferred response waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A point in time (a `/delay`, or `--delay` on `/`).
    Until(Instant),
    /// A job the handler started, identified by a number of its own
    /// (awaited through [`Handler::job_done`](super::Handler::job_done)).
    Job(u32),
}

/// A response written later, once its [`Wait`] is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferred {
    pub wait: Wait,
    /// The handler's own note of what to answer (a route, a status).
    pub tag: u32,
    /// When the request was read: its latency counts from here.
    pub received: Instant,
    pub(super) framing: Framing,
}

/// How the response is framed, fixed when the request was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Framing {
    pub head_only: bool,
    pub keep_alive: bool,
    pub http10: bool,
}
