//! `ResponseWriter`: appends one whole response (status line, headers, body)
//! to the connection's output buffer, so a batch of pipelined responses goes
//! out in one write.

use super::date::HttpDate;
use super::deferred::{Deferred, Framing, Wait};
use super::request::{Method, Request, Version};
use super::status::Status;

/// Written after the `Date` of every answer: no cache or proxy may store one.
/// Each answer counts a request, and `/cpuTempUp` and `/cpuTempDown` change
/// the temperature, so an answer served from a cache would hide load from
/// `total_req_num` and the HPA, skip a temperature step, or hand a scraper
/// old values. Part of the constant bytes around `Content-Type`, so it costs
/// no extra copy and no allocation.
macro_rules! no_store {
    () => {
        "\r\nCache-Control: no-store"
    };
}

/// Writes the response to one request into a shared output buffer. `N` is
/// the handler's note for an answer it [defers](Self::defer) (`()` for
/// handlers that never do).
pub struct ResponseWriter<'a, N = ()> {
    out: &'a mut Vec<u8>,
    date: &'a HttpDate,
    head_only: bool,
    keep_alive: bool,
    http10: bool,
    /// Set instead of a response when the handler answers later.
    deferred: Option<Deferred<N>>,
    /// The client waits for `100 Continue` before it sends the body.
    expect_continue: bool,
}

impl<'a, N: Copy> ResponseWriter<'a, N> {
    /// A writer for `req`; `keep_alive` is the connection's decision (the
    /// request's wish, overruled while shutting down).
    pub fn for_request(out: &'a mut Vec<u8>, date: &'a HttpDate, req: &Request<'_>, keep_alive: bool) -> Self {
        ResponseWriter {
            out,
            date,
            head_only: req.method == Method::Head,
            keep_alive,
            http10: req.version == Version::Http10,
            deferred: None,
            expect_continue: req.expect_continue,
        }
    }

    /// A writer for the answer to a request that was [deferred](Self::defer):
    /// framed as that request asked.
    pub fn for_deferred(out: &'a mut Vec<u8>, date: &'a HttpDate, deferred: &Deferred<N>) -> Self {
        ResponseWriter {
            out,
            date,
            head_only: deferred.framing.head_only,
            keep_alive: deferred.framing.keep_alive,
            http10: deferred.framing.http10,
            deferred: None,
            // Sent when the answer was deferred, if the client asked for it.
            expect_continue: false,
        }
    }

    /// A writer for a request that could not be parsed: always closes.
    pub fn for_rejection(out: &'a mut Vec<u8>, date: &'a HttpDate) -> Self {
        ResponseWriter {
            out,
            date,
            head_only: false,
            keep_alive: false,
            http10: false,
            deferred: None,
            expect_continue: false,
        }
    }

    /// Whether the connection stays open after this response (known once
    /// the response is written: see [`respond`](Self::respond)).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether the body is left out (a `HEAD` request).
    pub fn head_only(&self) -> bool {
        self.head_only
    }

    /// Answers later, after `wait`: nothing is written now, and the
    /// connection reads no further request until the answer is written
    /// (through [`Handler::finish`](super::Handler::finish), given `note`).
    pub fn defer(&mut self, wait: Wait, note: N, req: &Request<'_>) {
        if std::mem::take(&mut self.expect_continue) {
            // Accepted: the client may send its body while the answer waits.
            self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let framing = Framing {
            head_only: self.head_only,
            keep_alive: self.keep_alive,
            http10: self.http10,
        };
        self.deferred = Some(Deferred::new(wait, note, req.received, framing, req.path));
    }

    /// The deferral the handler asked for, if any.
    pub fn deferred(&self) -> Option<Deferred<N>> {
        self.deferred
    }

    /// Appends a `204 No Content` response: no body and, as RFC 9110 wants,
    /// no `Content-Length`.
    pub fn respond_no_content(&mut self) {
        let out = &mut *self.out;
        out.extend_from_slice(Status::NoContent.status_line().as_bytes());
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(self.date);
        out.extend_from_slice(no_store!().as_bytes());
        if !self.keep_alive {
            out.extend_from_slice(b"\r\nConnection: close");
        } else if self.http10 {
            out.extend_from_slice(b"\r\nConnection: keep-alive");
        }
        out.extend_from_slice(b"\r\n\r\n");
    }

    /// Appends a complete response. `extra_headers` are written verbatim
    /// (`("Allow", "GET, HEAD")`).
    ///
    /// To a client that expects `100 Continue`, a success is preceded by it
    /// (the body is read, and dropped, after the answer); a refusal goes out
    /// at once, without it, and closes the connection (RFC 9110 §10.1.1):
    /// such a client may send its body or may not, so no later byte on the
    /// connection can be known to start the next request.
    pub fn respond(&mut self, status: Status, extra_headers: &[(&str, &str)], content_type: &str, body: &[u8]) {
        let out = &mut *self.out;
        if std::mem::take(&mut self.expect_continue) {
            if status.code() / 100 == 2 {
                out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            } else {
                self.keep_alive = false;
            }
        }
        out.extend_from_slice(status.status_line().as_bytes());
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(self.date);
        out.extend_from_slice(concat!(no_store!(), "\r\nContent-Type: ").as_bytes());
        out.extend_from_slice(content_type.as_bytes());
        out.extend_from_slice(b"\r\nContent-Length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        for (name, value) in extra_headers {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
        }
        if !self.keep_alive {
            out.extend_from_slice(b"\r\nConnection: close");
        } else if self.http10 {
            out.extend_from_slice(b"\r\nConnection: keep-alive");
        }
        out.extend_from_slice(b"\r\n\r\n");
        if !self.head_only {
            out.extend_from_slice(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &HttpDate = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn req(method: Method, version: Version) -> Request<'static> {
        Request {
            method,
            path: "/",
            version,
            keep_alive: true,
            body_len: 0,
            chunked: false,
            accept: None,
            expect_continue: false,
            received: std::time::Instant::now(),
        }
    }

    #[test]
    fn keep_alive_response() {
        let mut out = Vec::new();
        ResponseWriter::<()>::for_request(&mut out, DATE, &req(Method::Get, Version::Http11), true).respond(
            Status::Ok,
            &[],
            "text/plain; charset=utf-8",
            b"custom metrics",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nCache-Control: no-store\r\nContent-Type: text/plain; charset=utf-8\r\n\
              Content-Length: 14\r\n\r\ncustom metrics"
        );
    }

    #[test]
    fn head_http10_and_extra_headers() {
        let mut out = Vec::new();
        ResponseWriter::<()>::for_request(&mut out, DATE, &req(Method::Head, Version::Http10), true).respond(
            Status::MethodNotAllowed,
            &[("Allow", "GET, HEAD")],
            "text/plain",
            b"nope",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 405 Method Not Allowed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nCache-Control: no-store\r\n\
              Content-Type: text/plain\r\n\
              Content-Length: 4\r\nAllow: GET, HEAD\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn expect_continue_precedes_successes_only() {
        let mut expecting = req(Method::Post, Version::Http11);
        expecting.expect_continue = true;
        let mut out = Vec::new();
        let mut res = ResponseWriter::<()>::for_request(&mut out, DATE, &expecting, true);
        res.respond(Status::Ok, &[], "text/plain", b"");
        assert!(res.keep_alive());
        assert!(out.starts_with(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
        let mut out = Vec::new();
        let mut res = ResponseWriter::<()>::for_request(&mut out, DATE, &expecting, true);
        res.respond(Status::MethodNotAllowed, &[], "text/plain", b"");
        assert!(!res.keep_alive());
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.starts_with("HTTP/1.1 405 ") && s.contains("\r\nConnection: close\r\n"),
            "{s}"
        );
    }

    #[test]
    fn rejection_closes() {
        let mut out = Vec::new();
        ResponseWriter::<()>::for_rejection(&mut out, DATE).respond(Status::BadRequest, &[], "text/plain", b"bad\n");
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(s.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\nbad\n"));
    }
}
