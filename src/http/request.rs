//! Request-head parsing on httparse, with the framing decisions this server
//! makes: keep-alive, body length, and which status rejects a bad head.

use std::time::Instant;

use super::host::is_valid_host;
use super::status::Status;
use super::transfer_coding::TransferCodings;

/// Headers beyond this count get `431`.
pub(super) const MAX_HEADERS: usize = 32;

/// A request head that reaches this many bytes without ending is rejected
/// (`414` if its request line has not ended, `431` otherwise); chunk
/// extensions and trailers are held to it too.
pub(super) const MAX_HEAD: usize = 8 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    /// Any other valid method token: answered with `405`.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request head, borrowing from the read buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'b> {
    pub method: Method,
    /// The path of the target, without query or fragment (`*` for asterisk-form).
    pub path: &'b str,
    pub version: Version,
    /// Whether the client wants the connection kept open afterwards.
    pub keep_alive: bool,
    /// Bytes of body that follow the head (to be read and discarded), when
    /// `Content-Length` frames it.
    pub body_len: u64,
    /// A chunked body follows the head (its length is known at its end).
    pub chunked: bool,
    /// The `Accept` header, if any (content negotiation of `/metrics`).
    pub accept: Option<&'b [u8]>,
    /// The client waits for `100 Continue` before sending its body.
    pub expect_continue: bool,
    /// When the bytes that completed this head were read.
    pub received: Instant,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'b> {
    /// A whole head, and its length in bytes.
    Complete(Request<'b>, usize),
    /// More bytes are needed.
    Partial,
}

/// Parsing limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest request body that is read and discarded; larger ones get `413`.
    pub max_body: u64,
}

/// A request head that cannot be answered normally: the caller answers
/// `status` and closes the connection (the framing of anything after a bad
/// head is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection<'b> {
    pub status: Status,
    /// The request's path when the head got that far, so the rejection is
    /// counted under its route.
    pub path: Option<&'b str>,
}

impl Rejection<'_> {
    fn early(status: Status) -> Rejection<'static> {
        Rejection { status, path: None }
    }
}

/// Parses one request head from the start of `buf`, read at `received`.
pub fn parse<'b>(buf: &'b [u8], limits: &Limits, received: Instant) -> Result<Parsed<'b>, Rejection<'b>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(Rejection::early(Status::HeaderFieldsTooLarge)),
        Err(httparse::Error::Version) => return Err(Rejection::early(version_error(buf))),
        Err(_) => return Err(Rejection::early(Status::BadRequest)),
    };
    let version = match req.version {
        Some(0) => Version::Http10,
        _ => Version::Http11,
    };
    let method = match req.method {
        Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some("POST") => Method::Post,
        _ => Method::Other,
    };
    let target = req.path.unwrap_or("");
    let path = target_path(target).ok_or(Rejection::early(Status::BadRequest))?;
    let reject = |status| Rejection {
        status,
        path: Some(path),
    };
    // Asterisk-form is only meaningful for OPTIONS (RFC 9112 §3.2.4).
    if path == "*" && req.method != Some("OPTIONS") {
        return Err(reject(Status::BadRequest));
    }
    if !valid_percent_encoding(path) {
        return Err(reject(Status::BadRequest));
    }

    let mut keep_alive = version == Version::Http11;
    let mut content_length: Option<u64> = None;
    let mut codings = TransferCodings::default();
    let mut has_host = false;
    let mut accept = None;
    let mut expect_continue = false;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = parse_content_length(h.value).ok_or(reject(Status::BadRequest))?;
            if content_length.is_some_and(|old| old != v) {
                return Err(reject(Status::BadRequest));
            }
            content_length = Some(v);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            codings.add(h.value);
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version == Version::Http10 {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case(b"accept") {
            accept = Some(h.value);
        } else if name.eq_ignore_ascii_case(b"host") {
            if has_host || !is_valid_host(h.value) {
                return Err(reject(Status::BadRequest));
            }
            has_host = true;
        } else if name.eq_ignore_ascii_case(b"expect") {
            // The only expectation HTTP defines; anything else is refused (RFC 9110 §10.1.1).
            if !h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue") {
                return Err(reject(Status::ExpectationFailed));
            }
            expect_continue = version == Version::Http11;
        }
    }
    if version == Version::Http11 && !has_host {
        return Err(reject(Status::BadRequest));
    }
    // Both framings at once is the request-smuggling shape, and an HTTP/1.0
    // recipient may not know chunked at all (RFC 9112 §6.1): refuse both,
    // whatever the codings say.
    if codings.is_present() && (content_length.is_some() || version == Version::Http10) {
        return Err(reject(Status::BadRequest));
    }
    let chunked = codings.chunked().map_err(reject)?;
    let body_len = content_length.unwrap_or(0);
    if body_len > limits.max_body {
        return Err(reject(Status::PayloadTooLarge));
    }
    let expect_continue = expect_continue && (body_len > 0 || chunked);
    let request = Request {
        method,
        path,
        version,
        keep_alive,
        body_len,
        chunked,
        accept,
        expect_continue,
        received,
    };
    Ok(Parsed::Complete(request, len))
}

/// Every `%` is followed by two hex digits.
fn valid_percent_encoding(path: &str) -> bool {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match b.get(i + 1..i + 3) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

/// The status for a head that filled the whole read buffer without ending.
pub(super) fn oversized_status(buf: &[u8]) -> Status {
    if buf.contains(&b'\n') {
        Status::HeaderFieldsTooLarge
    } else {
        Status::UriTooLong
    }
}

/// `PRI * HTTP/2.0` and other versions get 505; a garbled version 400.
///
/// Only the version's first bytes decide (after the request line's second
/// space: httparse has read the method and target), never what follows the
/// byte httparse stopped at, so the answer is the same however the line
/// was split across reads.
fn version_error(buf: &[u8]) -> Status {
    let version = buf.splitn(3, |&b| b == b' ').nth(2).unwrap_or_default();
    if version.starts_with(b"HTTP/") {
        Status::VersionNotSupported
    } else {
        Status::BadRequest
    }
}

/// The path of an origin-form, absolute-form or asterisk-form target.
fn target_path(target: &str) -> Option<&str> {
    let path = if target.starts_with('/') || target == "*" {
        target
    } else {
        let rest = target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
            .or_else(|| target.strip_prefix("HTTP://"))
            .or_else(|| target.strip_prefix("HTTPS://"))?;
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    };
    let end = path.find(['?', '#']).unwrap_or(path.len());
    Some(&path[..end])
}

/// Only digits, at least one, no overflow (RFC 9110 §8.6).
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_body: 1024 };

    fn parse<'b>(raw: &'b [u8], limits: &Limits) -> Result<Parsed<'b>, Status> {
        super::parse(raw, limits, Instant::now()).map_err(|r| r.status)
    }

    fn ok(raw: &[u8]) -> (Request<'_>, usize) {
        match parse(raw, &LIMITS) {
            Ok(Parsed::Complete(r, n)) => (r, n),
            other => panic!("expected a complete request from {raw:?}, got {other:?}"),
        }
    }

    fn err(raw: &[u8]) -> Status {
        parse(raw, &LIMITS).expect_err("expected a rejection")
    }

    #[test]
    fn simple_get_keeps_alive() {
        let raw = b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n";
        let (r, n) = ok(raw);
        assert_eq!(n, 38);
        assert_eq!(
            (r.method, r.path, r.version, r.keep_alive, r.body_len),
            (Method::Get, "/metrics", Version::Http11, true, 0)
        );
        assert_eq!(r.accept, None);
        let accept = b"GET /metrics HTTP/1.1\r\nHost: a\r\nACCEPT: application/openmetrics-text\r\n\r\n";
        assert_eq!(ok(accept).0.accept, Some(&b"application/openmetrics-text"[..]));
    }

    #[test]
    fn partial_heads() {
        for raw in [
            &b""[..],
            b"GE",
            b"GET / HTTP/1.1\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\r",
        ] {
            assert_eq!(parse(raw, &LIMITS), Ok(Parsed::Partial), "{raw:?}");
        }
    }

    #[test]
    fn connection_semantics() {
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").0.keep_alive);
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").0.keep_alive);
        assert!(
            !ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .0
                .keep_alive
        );
        assert!(
            !ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n")
                .0
                .keep_alive
        );
        assert!(
            ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
                .0
                .keep_alive
        );
    }

    #[test]
    fn methods() {
        assert_eq!(ok(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").0.method, Method::Head);
        assert_eq!(ok(b"POST / HTTP/1.1\r\nHost: a\r\n\r\n").0.method, Method::Post);
        assert_eq!(ok(b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n").0.method, Method::Other);
        assert_eq!(err(b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), Status::BadRequest);
    }

    #[test]
    fn target_forms() {
        assert_eq!(
            ok(b"GET http://h:3000/cpuTempUp?a HTTP/1.1\r\nHost: h\r\n\r\n").0.path,
            "/cpuTempUp"
        );
        assert_eq!(ok(b"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").0.path, "/");
        assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").0.path, "*");
        assert_eq!(err(b"GET metrics HTTP/1.1\r\nHost: h\r\n\r\n"), Status::BadRequest);
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n")
                .0
                .body_len,
            12
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
                .0
                .body_len,
            5
        );
        for cl in ["-1", "1x", "", "5, 6", "99999999999999999999", "+4"] {
            let raw = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {cl}\r\n\r\n");
            assert_eq!(err(raw.as_bytes()), Status::BadRequest, "{cl:?}");
        }
        assert_eq!(
            err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Status::BadRequest
        );
        assert_eq!(
            err(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n"),
            Status::PayloadTooLarge
        );
    }

    #[test]
    fn transfer_encoding_framing() {
        let (r, _) = ok(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(r.chunked && r.body_len == 0 && !r.expect_continue);
        let (r, _) = ok(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
        assert!(r.chunked && r.expect_continue);
        assert!(!ok(b"POST / HTTP/1.1\r\nHost: a\r\n\r\n").0.chunked);
        for (te, status) in [
            ("Content-Length: 3\r\nTransfer-Encoding: chunked", Status::BadRequest),
            ("Transfer-Encoding: chunked\r\nContent-Length: 3", Status::BadRequest),
            ("Transfer-Encoding: gzip", Status::BadRequest),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
                Status::BadRequest,
            ),
            ("Transfer-Encoding: chunked, chunked", Status::BadRequest),
            ("Transfer-Encoding: gzip, chunked", Status::NotImplemented),
        ] {
            let raw = format!("POST / HTTP/1.1\r\nHost: a\r\n{te}\r\n\r\n");
            assert_eq!(err(raw.as_bytes()), status, "{te:?}");
        }
        assert_eq!(
            err(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Status::BadRequest,
            "HTTP/1.0"
        );
    }

    #[test]
    fn host_is_required_once_on_http11_and_valid() {
        assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), Status::BadRequest);
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Status::BadRequest);
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n", &LIMITS).is_ok());
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: u@t\r\n\r\n"), Status::BadRequest);
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"), Status::BadRequest);
        assert_eq!(err(b"GET / HTTP/1.0\r\nHost: t/p\r\n\r\n"), Status::BadRequest);
        ok(b"GET / HTTP/1.1\r\nHost: [::1]:3000\r\n\r\n");
    }

    #[test]
    fn bad_heads() {
        assert_eq!(err(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Status::VersionNotSupported);
        assert_eq!(err(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"), Status::VersionNotSupported);
        assert_eq!(err(b"GET / HTX/1.1\r\nHost: a\r\n\r\n"), Status::BadRequest);
        // Found by fuzzing: the status depended on bytes after the error, so
        // the same bytes split across two reads got 400, in one read 505.
        assert_eq!(err(b"T / \0POST "), Status::BadRequest);
        assert_eq!(err(b"T / \0POST / HTTP/1.1\r\n"), Status::BadRequest);
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n"),
            Status::BadRequest
        );
        assert_eq!(err(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), Status::BadRequest);
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: a\0\r\n\r\n"), Status::BadRequest);
        let many: String = (0..MAX_HEADERS + 1).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            err(format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n").as_bytes()),
            Status::HeaderFieldsTooLarge
        );
    }

    #[test]
    fn oversized_heads() {
        assert_eq!(oversized_status(b"GET /aaaaaaaa"), Status::UriTooLong);
        assert_eq!(
            oversized_status(b"GET / HTTP/1.1\r\nX: aaaa"),
            Status::HeaderFieldsTooLarge
        );
    }
}
