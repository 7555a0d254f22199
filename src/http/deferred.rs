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

/// A response written later, once its [`Wait`] is over, with the handler's
/// own note of what to answer (its [`Handler::Note`](super::Handler::Note):
/// a route, a status), typed, so nothing is packed or guessed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferred<N> {
    pub wait: Wait,
    pub note: N,
    /// When the request was read: its latency counts from here.
    pub received: Instant,
    pub(super) framing: Framing,
    /// The start of the request's path, for the request log.
    path: [u8; PATH_NOTE],
    path_len: u8,
}

/// Bytes of the path a deferred response keeps (its routes' paths are short).
pub(super) const PATH_NOTE: usize = 64;

impl<N> Deferred<N> {
    pub(super) fn new(wait: Wait, note: N, received: Instant, framing: Framing, path: &str) -> Deferred<N> {
        let mut end = path.len().min(PATH_NOTE);
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        let mut kept = [0; PATH_NOTE];
        kept[..end].copy_from_slice(&path.as_bytes()[..end]);
        Deferred {
            wait,
            note,
            received,
            framing,
            path: kept,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::{Handler, Limits, Rejection, Request, ResponseWriter, Session, Status};

    /// Defers `/later` by a second; answers everything else at once.
    struct Later;
    impl Handler for Later {
        type Note = u8;
        fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_, u8>) {
            if req.path == "/later" {
                res.defer(Wait::Until(req.received + Duration::from_secs(1)), 7, req);
            } else {
                res.respond(Status::Ok, &[], "text/plain", req.path.as_bytes());
            }
        }
        fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_, u8>) {
            res.respond(rejection.status, &[], "text/plain", b"");
        }
        fn finish(&self, deferred: Deferred<u8>, res: &mut ResponseWriter<'_, u8>) {
            assert_eq!((deferred.note, deferred.path()), (7, "/later"));
            res.respond(Status::Ok, &[], "text/plain", b"later");
        }
    }

    #[test]
    fn feed_stops_after_a_deferred_request_and_finish_answers_it() {
        let mut session = Session::new(Limits { max_body: 0 });
        let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /later HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        let received = Instant::now();
        let mut out = Vec::new();
        let p = session.feed(input, received, &Later, false, &mut out);
        assert!(p.waits);
        assert_eq!((p.responses, p.close), (2, false));
        assert_eq!(p.consumed, input.len() - b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n".len());
        assert_eq!(
            session.deferred_wait(),
            Some(Wait::Until(received + Duration::from_secs(1)))
        );
        let first = String::from_utf8(std::mem::take(&mut out)).unwrap();
        assert!(first.ends_with("/a"), "only the first answer so far: {first}");
        session.finish(&Later, &mut out);
        assert_eq!(session.deferred_wait(), None);
        let later = String::from_utf8(std::mem::take(&mut out)).unwrap();
        // HEAD framing survives the wait: a length, no body.
        assert!(
            later.starts_with("HTTP/1.1 200 OK\r\n") && later.ends_with("Content-Length: 5\r\n\r\n"),
            "{later}"
        );
        let p = session.feed(&input[p.consumed..], received, &Later, false, &mut out);
        assert_eq!((p.responses, p.waits), (1, false));
    }

    #[test]
    fn long_paths_are_cut_at_a_char_boundary() {
        let framing = Framing {
            head_only: false,
            keep_alive: true,
            http10: false,
        };
        let path = format!("/{}é", "a".repeat(PATH_NOTE - 2));
        let d = Deferred::new(Wait::Job(1), (), Instant::now(), framing, &path);
        assert_eq!(d.path(), &path[..PATH_NOTE - 1]);
    }
}
