//! A tiny HTTP/1.1 client on tokio's `TcpStream`: one request at a time per
//! connection, responses framed by `Content-Length` (what the app sends).
//!
//! `close` mode opens a connection per request and says `Connection: close`,
//! like the seed's `wget` loop; after the response it waits for the server's
//! FIN before closing, so the TIME_WAIT state lands on the server side and a
//! few thousand connections a second do not use up the client's ephemeral
//! ports (60 s of TIME_WAIT at 6000/s would need 360,000 of them).
//! `keep-alive` mode reuses the connection; a reused connection the server
//! has closed meanwhile (write fails, or EOF before any byte of the answer) is
//! replaced once and the request sent again.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::args::{ConnectionMode, Method};
use super::target::Url;

/// Why a request got no complete response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// No connection could be opened (refused, unreachable).
    Connect,
    /// The request did not complete within `--timeout`.
    Timeout,
    /// The server closed the connection before the whole response.
    Closed,
    /// A read or write failed (reset, broken pipe).
    Io,
    /// Not an HTTP/1.x response this client can frame.
    BadResponse,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Closed,
        ErrorKind::Io,
        ErrorKind::BadResponse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Closed => "closed",
            ErrorKind::Io => "io",
            ErrorKind::BadResponse => "bad-response",
        }
    }
}

/// The bytes of the one request a run sends, built once.
pub(crate) fn request_bytes(method: Method, url: &Url, mode: ConnectionMode) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: custom-metrics-app-loadgen/{}\r\n",
        method.name(),
        url.path,
        url.host_header(),
        env!("CARGO_PKG_VERSION"),
    );
    if method == Method::Post {
        head += "Content-Length: 0\r\n";
    }
    if mode == ConnectionMode::Close {
        head += "Connection: close\r\n";
    }
    head += "\r\n";
    head.into_bytes()
}

/// What is known of a response once its head has been parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head, up to and including the blank line.
    pub len: usize,
    /// Body bytes; `None`: until the server closes.
    pub body: Option<usize>,
    pub close: bool,
}

/// Parses a response head from the start of `buf`; `Ok(None)` until it is
/// complete. Public for the fuzz target: it reads bytes from any server a
/// user points the generator at.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, ErrorKind> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorKind::BadResponse),
    };
    let status = response.code.ok_or(ErrorKind::BadResponse)?;
    let mut body = None;
    let mut close = response.version == Some(0);
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or(ErrorKind::BadResponse)?;
            body = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // The app never sends a transfer coding; this client does not decode one.
            return Err(ErrorKind::BadResponse);
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
            if v.split(',').any(|t| t.trim() == "close") {
                close = true;
            }
        }
    }
    // 1xx, 204 and 304 have no body whatever the headers say.
    if (100..200).contains(&status) || status == 204 || status == 304 {
        body = Some(0);
    }
    if body.is_none() {
        close = true;
    }
    Ok(Some(Head {
        status,
        len,
        body,
        close,
    }))
}

/// One client connection (opened on demand) and its read buffer.
pub(crate) struct Connection {
    addrs: Rc<[SocketAddr]>,
    mode: ConnectionMode,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    written: bool,
    /// Where the last complete response's body lies in `buf`.
    body: std::ops::Range<usize>,
    /// Connections opened so far: a check that must stay on one pod behind
    /// a Service (`check`) sees whether the connection was replaced.
    opened: u32,
}

/// How a failed attempt on a reused connection may be retried.
enum Attempt {
    Done(u16),
    /// The reused connection was found closed before any byte of the answer.
    Stale,
}

impl Connection {
    pub(crate) fn new(addrs: Rc<[SocketAddr]>, mode: ConnectionMode) -> Connection {
        Connection {
            addrs,
            mode,
            stream: None,
            buf: Vec::with_capacity(4096),
            written: false,
            body: 0..0,
            opened: 0,
        }
    }

    /// The body of the last complete response (empty after an error).
    pub(crate) fn body(&self) -> &[u8] {
        self.buf.get(self.body.clone()).unwrap_or_default()
    }

    /// How many connections were opened so far.
    pub(crate) fn opened(&self) -> u32 {
        self.opened
    }

    /// Whether the last request's bytes were all written (also after a
    /// timeout dropped the [`send`](Self::send) future).
    pub(crate) fn request_written(&self) -> bool {
        self.written
    }

    /// Forgets the connection (after a timeout: its state is unknown).
    pub(crate) fn reset(&mut self) {
        self.stream = None;
        self.buf.clear();
        self.body = 0..0;
    }

    /// Sends `request` and reads the whole response; its status code.
    pub(crate) async fn send(&mut self, request: &[u8]) -> Result<u16, ErrorKind> {
        self.written = false;
        let reused = self.stream.is_some();
        let result = match self.attempt(request, reused).await {
            Ok(Attempt::Stale) => {
                self.reset();
                match self.attempt(request, false).await {
                    Ok(Attempt::Done(status)) => Ok(status),
                    Ok(Attempt::Stale) => Err(ErrorKind::Closed),
                    Err(e) => Err(e),
                }
            }
            Ok(Attempt::Done(status)) => Ok(status),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.reset();
        }
        result
    }

    /// After a response in `close` mode: waits (at most `limit`) for the
    /// server to close first, then closes.
    pub(crate) async fn finish(&mut self, limit: Duration) {
        if let Some(mut stream) = self.stream.take() {
            let mut scratch = [0u8; 512];
            let _ = tokio::time::timeout(limit, async {
                while let Ok(n) = stream.read(&mut scratch).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
        self.buf.clear();
    }

    async fn attempt(&mut self, request: &[u8], reused: bool) -> Result<Attempt, ErrorKind> {
        if self.stream.is_none() {
            self.stream = Some(connect(&self.addrs).await.map_err(|_| ErrorKind::Connect)?);
            self.opened += 1;
        }
        let stream = self.stream.as_mut().expect("connected above");
        if let Err(e) = stream.write_all(request).await {
            return if reused { Ok(Attempt::Stale) } else { Err(io_kind(&e)) };
        }
        self.written = true;
        self.buf.clear();
        self.body = 0..0;
        let head = loop {
            if let Some(head) = parse_head(&self.buf)? {
                break head;
            }
            match read_more(stream, &mut self.buf).await {
                Ok(0) if self.buf.is_empty() && reused => return Ok(Attempt::Stale),
                Ok(0) => return Err(ErrorKind::Closed),
                Ok(_) => {}
                Err(e) if self.buf.is_empty() && reused && is_reset(&e) => return Ok(Attempt::Stale),
                Err(e) => return Err(io_kind(&e)),
            }
        };
        let end = match head.body {
            Some(n) => head.len + n,
            None => usize::MAX,
        };
        while self.buf.len() < end {
            match read_more(stream, &mut self.buf).await {
                Ok(0) if head.body.is_none() => break,
                Ok(0) => return Err(ErrorKind::Closed),
                Ok(_) => {}
                Err(e) => return Err(io_kind(&e)),
            }
        }
        self.body = head.len.min(self.buf.len())..end.min(self.buf.len());
        if head.close && self.mode == ConnectionMode::KeepAlive {
            self.stream = None;
        }
        Ok(Attempt::Done(head.status))
    }
}

/// Connects to the first address that accepts.
async fn connect(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Requests are small and latency is what is measured.
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
    )
}

fn io_kind(e: &io::Error) -> ErrorKind {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ErrorKind::Closed
    } else {
        ErrorKind::Io
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let url = Url::parse("http://h:3000/cpuTempUp").unwrap();
        assert_eq!(
            String::from_utf8(request_bytes(Method::Post, &url, ConnectionMode::Close)).unwrap(),
            format!(
                "POST /cpuTempUp HTTP/1.1\r\nHost: h:3000\r\nUser-Agent: custom-metrics-app-loadgen/{}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let get = String::from_utf8(request_bytes(Method::Get, &url, ConnectionMode::KeepAlive)).unwrap();
        assert!(get.starts_with("GET /cpuTempUp HTTP/1.1\r\n"));
        assert!(!get.contains("Connection") && !get.contains("Content-Length"));
    }

    #[test]
    fn heads() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\nDate: x\r\n\r\ncustom metrics\n";
        assert_eq!(
            parse_head(ok),
            Ok(Some(Head {
                status: 200,
                len: 48,
                body: Some(15),
                close: false
            }))
        );
        assert_eq!(parse_head(&ok[..20]), Ok(None));
        let closing = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let h = parse_head(closing).unwrap().unwrap();
        assert_eq!((h.status, h.body, h.close), (503, Some(0), true));
        // HTTP/1.0 closes by default; no length means "until closed".
        let old = parse_head(b"HTTP/1.0 200 OK\r\n\r\nbody").unwrap().unwrap();
        assert_eq!((old.body, old.close), (None, true));
        let empty = parse_head(b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(empty.body, Some(0));
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad), Err(ErrorKind::BadResponse));
        }
    }
}
