//! `Session`: the protocol state of one connection, turning the bytes read
//! into responses appended to an output buffer. No I/O happens here, so the
//! whole state machine runs (and is tested, and benchmarked) on memory.

use std::time::Instant;

use super::chunked_request::ChunkedRequest;
use super::date::{http_date, HttpDate};
use super::deferred::{Deferred, Wait};
use super::handler::Handler;
use super::request::{oversized_status, parse, Limits, Parsed, Rejection, Request, MAX_HEAD};
use super::response::ResponseWriter;
use super::status::Status;

/// Pending output beyond this stops parsing until it has been written, so a
/// client cannot queue unbounded responses by pipelining.
pub const WRITE_HIGH_WATER: usize = 64 * 1024;

/// What one call to [`Session::feed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes used up; the rest must be fed again (with more data after it).
    pub consumed: usize,
    /// Responses appended to the output buffer.
    pub responses: usize,
    /// The last response closes the connection: write the output, then close.
    pub close: bool,
    /// The close follows a rejected request, so unread input may remain.
    pub rejected: bool,
    /// The last request's answer waits: the connection waits for
    /// [`Session::deferred_wait`], then calls [`Session::finish`] (before
    /// `close` is acted on). The answer itself stays in the session, so that
    /// a connection's state stays small.
    pub waits: bool,
}

/// Per-connection protocol state.
#[derive(Debug)]
pub struct Session<N = ()> {
    limits: Limits,
    /// Body bytes of the last request still to be skipped (`Content-Length`).
    discard: u64,
    /// A request whose chunked body is being read; answered at its end.
    chunked: Option<ChunkedRequest>,
    /// An answer that waits (see [`Progress::waits`]).
    deferred: Option<Deferred<N>>,
}

impl<N: Copy> Session<N> {
    pub fn new(limits: Limits) -> Session<N> {
        Session {
            limits,
            discard: 0,
            chunked: None,
            deferred: None,
        }
    }

    /// True between requests: nothing half-read.
    pub fn is_idle(&self) -> bool {
        self.discard == 0 && self.chunked.is_none()
    }

    /// A request has been read in part and not answered yet (its chunked
    /// body has not ended): a timeout must answer it.
    pub fn owes_response(&self) -> bool {
        self.chunked.is_some()
    }

    /// Answers every complete request at the start of `input`, appending the
    /// responses to `out`, until the input runs out, a response closes the
    /// connection, or `out` passes [`WRITE_HIGH_WATER`].
    ///
    /// `received` is when `input`'s last bytes were read; `draining` turns
    /// every response into the connection's last.
    pub fn feed<H: Handler<Note = N>>(
        &mut self,
        input: &[u8],
        received: Instant,
        handler: &H,
        draining: bool,
        out: &mut Vec<u8>,
    ) -> Progress {
        let mut p = Progress {
            consumed: 0,
            responses: 0,
            close: false,
            rejected: false,
            waits: false,
        };
        let mut date = None;
        while p.consumed < input.len() && out.len() < WRITE_HIGH_WATER {
            if self.discard > 0 {
                let skip = self.discard.min((input.len() - p.consumed) as u64);
                self.discard -= skip;
                p.consumed += skip as usize;
                continue;
            }
            let rest = &input[p.consumed..];
            let date = date.get_or_insert_with(http_date);
            if let Some(pending) = &mut self.chunked {
                let status = match pending.discard(rest) {
                    Ok(d) if !d.done => {
                        p.consumed += d.consumed;
                        break;
                    }
                    Ok(d) => {
                        p.consumed += d.consumed;
                        None
                    }
                    Err(status) => Some(status),
                };
                let pending = self.chunked.take().expect("matched above");
                let req = pending.request(&self.limits, received);
                p.responses += 1;
                if let Some(status) = status {
                    let rejection = Rejection {
                        status,
                        path: Some(req.path),
                    };
                    handler.reject(rejection, &mut ResponseWriter::for_rejection(out, date));
                    p.close = true;
                    p.rejected = true;
                    break;
                }
                if answer(&req, handler, draining, date, out, &mut p, &mut self.deferred) {
                    break;
                }
                continue;
            }
            let rejection = match parse(rest, &self.limits, received) {
                Ok(Parsed::Complete(req, len)) if len > MAX_HEAD => {
                    // The same limit whether the head arrived in one read or many.
                    Rejection {
                        status: oversized_status(&rest[..MAX_HEAD]),
                        path: Some(req.path),
                    }
                }
                Ok(Parsed::Complete(req, len)) if req.chunked => {
                    p.consumed += len;
                    if req.expect_continue {
                        // The answer waits for the body, so the client must
                        // be told to send it.
                        out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    self.chunked = Some(ChunkedRequest::new(&rest[..len], &self.limits));
                    continue;
                }
                Ok(Parsed::Complete(req, len)) => {
                    p.consumed += len;
                    p.responses += 1;
                    // Answered before its body (if any) is read: the body is
                    // dropped either way.
                    self.discard = req.body_len;
                    if answer(&req, handler, draining, date, out, &mut p, &mut self.deferred) {
                        break;
                    }
                    continue;
                }
                Ok(Parsed::Partial) if rest.len() >= MAX_HEAD => Rejection {
                    status: oversized_status(&rest[..MAX_HEAD]),
                    path: None,
                },
                Ok(Parsed::Partial) => break,
                Err(rejection) => rejection,
            };
            handler.reject(rejection, &mut ResponseWriter::for_rejection(out, date));
            p.responses += 1;
            p.close = true;
            p.rejected = true;
            break;
        }
        p
    }

    /// What the answer that [`Progress::waits`] for waits on.
    pub fn deferred_wait(&self) -> Option<Wait> {
        self.deferred.map(|d| d.wait)
    }

    /// Writes the answer that [`Progress::waits`] for, once its wait is over.
    pub fn finish<H: Handler<Note = N>>(&mut self, handler: &H, out: &mut Vec<u8>) {
        if let Some(deferred) = self.deferred.take() {
            handler.finish(
                deferred,
                &mut ResponseWriter::for_deferred(out, &http_date(), &deferred),
            );
        }
    }

    /// Answers `408` for a request that did not complete in time: a head,
    /// or a chunked body (the caller closes).
    pub fn time_out<H: Handler<Note = N>>(&mut self, handler: &H, out: &mut Vec<u8>) {
        let pending = self.chunked.take();
        let req = pending
            .as_ref()
            .map(|c| c.request(&self.limits, std::time::Instant::now()));
        let rejection = Rejection {
            status: Status::RequestTimeout,
            path: req.map(|r| r.path),
        };
        handler.reject(rejection, &mut ResponseWriter::for_rejection(out, &http_date()));
    }
}

/// Lets `handler` answer `req`, noting in `p` a close or a deferred answer;
/// whether feeding must stop here.
fn answer<H: Handler>(
    req: &Request<'_>,
    handler: &H,
    draining: bool,
    date: &HttpDate,
    out: &mut Vec<u8>,
    p: &mut Progress,
    deferred: &mut Option<Deferred<H::Note>>,
) -> bool {
    let mut res = ResponseWriter::for_request(out, date, req, req.keep_alive && !draining);
    handler.handle(req, &mut res);
    // The writer may have closed it: a refusal to a client expecting 100.
    p.close = !res.keep_alive();
    *deferred = res.deferred();
    p.waits = deferred.is_some();
    p.close || p.waits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Method, Request};

    /// Echoes the path; counts nothing.
    struct Echo;
    impl Handler for Echo {
        type Note = ();
        fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_>) {
            let status = if req.method == Method::Other {
                Status::MethodNotAllowed
            } else {
                Status::Ok
            };
            res.respond(status, &[], "text/plain", req.path.as_bytes());
        }
        fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_>) {
            res.respond(rejection.status, &[], "text/plain", b"");
        }
    }

    const LIMITS: Limits = Limits { max_body: 100 };

    fn feed(s: &mut Session, input: &[u8]) -> (Progress, String) {
        let mut out = Vec::new();
        let p = s.feed(input, Instant::now(), &Echo, false, &mut out);
        (p, String::from_utf8(out).unwrap())
    }

    #[test]
    fn answers_pipelined_requests_in_order() {
        let mut s = Session::new(LIMITS);
        let input = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HT";
        let (p, out) = feed(&mut s, input);
        assert_eq!(
            p,
            Progress {
                consumed: 56,
                responses: 2,
                close: false,
                rejected: false,
                waits: false
            }
        );
        let a = out.find("\r\n\r\n/a").unwrap();
        let b = out.find("\r\n\r\n/b").unwrap();
        assert!(a < b);
    }

    #[test]
    fn skips_bodies_across_feeds() {
        let mut s = Session::new(LIMITS);
        let (p, _) = feed(
            &mut s,
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345",
        );
        assert_eq!((p.responses, p.consumed), (1, 54));
        assert!(!s.is_idle());
        let (p, out) = feed(&mut s, b"67890GET /y HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(p.responses, 1);
        assert!(out.ends_with("/y"));
        assert!(s.is_idle());
    }

    #[test]
    fn chunked_requests_are_answered_when_their_body_ends() {
        let mut s = Session::new(LIMITS);
        let head = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let (p, out) = feed(&mut s, &[&head[..], b"5\r\nhel"].concat());
        assert_eq!((p.responses, p.consumed, out.as_str()), (0, head.len() + 6, ""));
        assert!(!s.is_idle() && s.owes_response());
        let (p, out) = feed(&mut s, b"lo\r\n0\r\nT: v\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(p.responses, 2);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n") && out.contains("\r\n\r\n/c") && out.ends_with("/next"));
        assert!(s.is_idle());
    }

    #[test]
    fn broken_or_oversized_chunked_bodies_are_refused() {
        for (body, status) in [("5\r\nhelloXX", "400"), ("65\r\n", "413"), ("zz\r\n", "400")] {
            let mut s = Session::new(LIMITS);
            let raw = format!("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
            let (p, out) = feed(&mut s, raw.as_bytes());
            assert!(p.rejected && p.close && p.responses == 1, "{body:?}");
            assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{body:?}: {out}");
        }
    }

    #[test]
    fn expect_continue() {
        // Chunked: the 100 goes out with the head, the answer at the body's end.
        let mut s = Session::new(LIMITS);
        let (p, out) = feed(
            &mut s,
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
        );
        assert_eq!((p.responses, out.as_str()), (0, "HTTP/1.1 100 Continue\r\n\r\n"));
        let (p, out) = feed(&mut s, b"0\r\n\r\n");
        assert!(p.responses == 1 && out.starts_with("HTTP/1.1 200 OK\r\n"));
        // A refusal known from the head goes out at once, without a 100, and closes.
        let mut s = Session::new(LIMITS);
        let (p, out) = feed(
            &mut s,
            b"PUT /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
        );
        assert!(p.close && !p.rejected && p.responses == 1);
        assert!(
            out.starts_with("HTTP/1.1 405 ") && out.contains("Connection: close"),
            "{out}"
        );
    }

    #[test]
    fn close_stops_processing() {
        let mut s = Session::new(LIMITS);
        let (p, out) = feed(
            &mut s,
            b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert!(p.close && !p.rejected);
        assert_eq!(p.responses, 1);
        assert!(out.contains("Connection: close\r\n") && !out.contains("/b"));
    }

    #[test]
    fn draining_closes_after_one_response() {
        let mut s = Session::new(LIMITS);
        let mut out = Vec::new();
        let p = s.feed(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            Instant::now(),
            &Echo,
            true,
            &mut out,
        );
        assert_eq!((p.responses, p.close), (1, true));
    }

    #[test]
    fn oversized_heads_are_rejected() {
        let mut s = Session::new(LIMITS);
        let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD));
        let (p, out) = feed(&mut s, long_line.as_bytes());
        assert!(p.rejected && out.starts_with("HTTP/1.1 414 "));
        let big_header = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        let (p, out) = feed(&mut Session::new(LIMITS), big_header.as_bytes());
        assert!(p.rejected && out.starts_with("HTTP/1.1 431 "));
    }

    #[test]
    fn bad_request_rejects_and_closes() {
        let (p, out) = feed(&mut Session::new(LIMITS), b"BAD\x01 / HTTP/1.1\r\n\r\n");
        assert!(p.close && p.rejected);
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n") && out.contains("Connection: close"));
    }

    #[test]
    fn stops_at_high_water() {
        let one = b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\n\r\n";
        let input: Vec<u8> = one.iter().copied().cycle().take(one.len() * 2000).collect();
        let mut s = Session::new(LIMITS);
        let mut out = Vec::new();
        let p = s.feed(&input, Instant::now(), &Echo, false, &mut out);
        assert!(p.responses < 2000 && p.responses > 0);
        assert!(out.len() >= WRITE_HIGH_WATER && out.len() < WRITE_HIGH_WATER + 1024);
        assert_eq!(p.consumed, p.responses * one.len());
    }
}
