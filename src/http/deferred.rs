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
    /// The start of the request's path, for the request log.
    path: [u8; PATH_NOTE],
    path_len: u8,
}

/// Bytes of the path a deferred response keeps (its routes' paths are short).
pub const PATH_NOTE: usize = 64;

impl Deferred {
    pub(super) fn new(wait: Wait, tag: u32, received: Instant, framing: Framing, path: &str) -> Deferred {
        let mut end = path.len().min(PATH_NOTE);
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        let mut note = [0; PATH_NOTE];
        note[..end].copy_from_slice(&path.as_bytes()[..end]);
        Deferred {
            wait,
            tag,
            received,
            framing,
            path: note,
            path_len: end as u8,
        }
    }

    /// The request's path, cut at [`PATH_NOTE`] bytes.
    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.path[..self.path_len as usize]).unwrap_or("")
    }
}

/// How the response is framed, fixed when the request was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Framing {
    pub head_only: bool,
    pub keep_alive: bool,
    pub http10: bool,
}
