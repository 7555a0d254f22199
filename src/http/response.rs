//! `ResponseWriter`: appends one whole response (status line, headers, body)
//! to the connection's output buffer, so a batch of pipelined responses goes
//! out in one write.

use super::date::HttpDate;
use super::deferred::{Deferred, Framing, Wait};
use super::request::{Method, Request, Version};
use super::status::Status;

/// Writes the response to one request into a shared output buffer.
pub struct ResponseWriter<'a> {
    out: &'a mut Vec<u8>,
    date: &'a HttpDate,
    head_only: bool,
    keep_alive: bool,
    http10: bool,
    /// Set instead of a response when the handler answers later.
    deferred: Option<Deferred>,
}

impl<'a> ResponseWriter<'a> {
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
        }
    }

    /// A writer for the answer to a request that was [deferred](Self::defer):
    /// framed as that request asked.
    pub fn for_deferred(out: &'a mut Vec<u8>, date: &'a HttpDate, deferred: &Deferred) -> Self {
        ResponseWriter {
            out,
            date,
            head_only: deferred.framing.head_only,
            keep_alive: deferred.framing.keep_alive,
            http10: deferred.framing.http10,
            deferred: None,
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
        }
    }

    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether the body is left out (a `HEAD` request).
    pub fn head_only(&self) -> bool {
        self.head_only
    }

    /// Answers later, after `wait`: nothing is written now, and the
    /// connection reads no further request until the answer is written
    /// (through [`Handler::finish`](super::Handler::finish), given `tag`).
    pub fn defer(&mut self, wait: Wait, tag: u32, req: &Request<'_>) {
        let framing = Framing {
            head_only: self.head_only,
            keep_alive: self.keep_alive,
            http10: self.http10,
        };
        self.deferred = Some(Deferred::new(wait, tag, req.received, framing, req.path));
    }

    /// The deferral the handler asked for, if any.
    pub fn deferred(&self) -> Option<Deferred> {
        self.deferred
    }

    /// Appends a `204 No Content` response: no body and, as RFC 9110 wants,
    /// no `Content-Length`.
    pub fn respond_no_content(&mut self) {
        let out = &mut *self.out;
        out.extend_from_slice(Status::NoContent.status_line().as_bytes());
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(self.date);
        if !self.keep_alive {
            out.extend_from_slice(b"\r\nConnection: close");
        } else if self.http10 {
            out.extend_from_slice(b"\r\nConnection: keep-alive");
        }
        out.extend_from_slice(b"\r\n\r\n");
    }

    /// Appends a complete response. `extra_headers` are written verbatim
    /// (`("Allow", "GET, HEAD")`).
    pub fn respond(&mut self, status: Status, extra_headers: &[(&str, &str)], content_type: &str, body: &[u8]) {
        let out = &mut *self.out;
        out.extend_from_slice(status.status_line().as_bytes());
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(self.date);
        out.extend_from_slice(b"\r\nContent-Type: ");
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
            accept: None,
            expect_continue: false,
            received: std::time::Instant::now(),
        }
    }

    #[test]
    fn keep_alive_response() {
        let mut out = Vec::new();
        ResponseWriter::for_request(&mut out, DATE, &req(Method::Get, Version::Http11), true).respond(
            Status::Ok,
            &[],
            "text/plain; charset=utf-8",
            b"custom metrics",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n\
              Content-Length: 14\r\n\r\ncustom metrics"
        );
    }

    #[test]
    fn head_http10_and_extra_headers() {
        let mut out = Vec::new();
        ResponseWriter::for_request(&mut out, DATE, &req(Method::Head, Version::Http10), true).respond(
            Status::MethodNotAllowed,
            &[("Allow", "GET, HEAD")],
            "text/plain",
            b"nope",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 405 Method Not Allowed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\n\
              Content-Length: 4\r\nAllow: GET, HEAD\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn rejection_closes() {
        let mut out = Vec::new();
        ResponseWriter::for_rejection(&mut out, DATE).respond(Status::BadRequest, &[], "text/plain", b"bad\n");
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(s.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\nbad\n"));
    }
}
