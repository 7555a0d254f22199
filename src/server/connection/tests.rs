//! The connection timeouts on a paused clock, over real loopback sockets:
//! the header, idle and write timeouts of the command line's defaults,
//! checked to the millisecond without sleeping.
//!
//! Each test runs one connection the way a worker does (accepted, offered to
//! the [fast path](super::super::fast_path), then [`serve`]d on a task) in a
//! current-thread runtime whose clock only moves by [`advance`]. The client is
//! a plain non-blocking socket on the same thread, so everything the server
//! does between two steps of a test has happened by the time the test looks:
//! a step is "the client sends, the server reacts" or "the clock moves, the
//! server reacts", and neither waits for the wall clock.
//!
//! The server knows only the [`Handler`] trait, so it is tested through stub
//! handlers ([`Counting`], [`Large`]), as the session's tests are; what the
//! app answers and counts is tested with the app.

use std::io::{self, Read, Write};
use std::net::TcpStream as StdStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{serve, ConnectionConfig, Timeouts};
use crate::http::{Handler, Rejection, Request, ResponseWriter, Status};
use crate::server::worker_connections::LiveMark;
use crate::server::{fast_path, ConnectionLimit, ServerConfig, Shutdown};

/// The timeouts a server runs with when no flag says otherwise.
const DEFAULTS: Timeouts = ServerConfig::DEFAULT.timeouts;
const MS: Duration = Duration::from_millis(1);

/// Keeps the paused clock where it is until the test moves it.
///
/// Left to itself, tokio moves a paused clock to the next timer whenever the
/// runtime has nothing to run, and with real sockets that includes moments
/// when bytes are on their way: a timeout would fire before the request it
/// should not have cut off is read. Tokio does not do so while a blocking
/// task runs, so one waits here until the test ends.
struct HeldClock(Option<std::sync::mpsc::Sender<()>>);

impl HeldClock {
    fn hold() -> HeldClock {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        tokio::task::spawn_blocking(move || rx.recv());
        HeldClock(Some(tx))
    }
}

impl Drop for HeldClock {
    fn drop(&mut self) {
        self.0.take(); // The blocking task's `recv` fails, and it returns.
    }
}

/// Lets the connection task do what the last step gave it to do: read what
/// arrived, or react to a timer that is due. Each yield lets the runtime
/// poll the sockets (without waiting) and the timers, then run what woke.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// Moves the clock on by `d`, then lets the connection task react to the
/// timers that came due (tokio fires them only at the next poll of the
/// runtime's drivers, and may run the test before the task they woke).
async fn advance(d: Duration) {
    tokio::time::advance(d).await;
    settle().await;
}

/// One connection: the client's end, and the task serving the other.
struct Conn {
    client: StdStream,
    server: JoinHandle<std::io::Result<()>>,
    /// When the server accepted it.
    accepted: Instant,
}

impl Conn {
    /// Connects to a fresh listener and serves the accepted end as a worker
    /// does, with the defaults' limits and `timeouts`.
    async fn open<H: Handler>(handler: Arc<H>, timeouts: Timeouts) -> Conn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = StdStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        // Every byte goes out as it is written: Nagle's algorithm would hold
        // a trickle back until the server's (delayed, wall-clock) ACK.
        client.set_nodelay(true).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let stream = stream.into_std().unwrap();
        let config = ConnectionConfig {
            limits: ServerConfig::DEFAULT.limits,
            timeouts,
        };
        let shutdown = Arc::new(Shutdown::new());
        // Nothing has been sent yet: the fast path hands the connection over
        // with the accept time, which the header timeout counts from.
        let start = fast_path::answer_first(&stream, &*handler, &shutdown, config).expect("handed over");
        let accepted = start.accepted;
        let stream = tokio::net::TcpStream::from_std(stream).unwrap();
        // Counted as a worker counts it (the limit and the live connections).
        let held = (ConnectionLimit::new(1).acquire(), LiveMark::new());
        let server = tokio::spawn(serve(stream, handler, shutdown, config, start, held));
        settle().await;
        Conn {
            client,
            server,
            accepted,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        // Small writes into an empty socket buffer: taken whole.
        self.client.write_all(bytes).unwrap();
    }

    /// Sends `bytes`, then lets the server react.
    async fn send_settled(&mut self, bytes: &[u8]) {
        self.send(bytes);
        settle().await;
    }

    /// What the server has sent so far, and whether it has closed.
    fn received(&mut self) -> (Vec<u8>, bool) {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.client.read(&mut buf) {
                Ok(0) => return (bytes, true),
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (bytes, false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A reset ends the connection as surely as a FIN.
                Err(_) => return (bytes, true),
            }
        }
    }

    /// Still open, with nothing sent since the last look.
    #[track_caller]
    fn assert_open_and_quiet(&mut self) {
        assert!(!self.server.is_finished(), "the connection task ended");
        let (bytes, closed) = self.received();
        assert!(
            bytes.is_empty() && !closed,
            "sent {:?}, closed: {closed}",
            String::from_utf8_lossy(&bytes)
        );
    }

    /// Moves the clock on by `d`, checking that the connection is still
    /// open and quiet one millisecond before.
    async fn open_for(&mut self, d: Duration) {
        advance(d - MS).await;
        self.assert_open_and_quiet();
        advance(MS).await;
    }

    /// Waits for the connection task to end. Bounded by the wall clock only
    /// so that a broken build fails rather than hangs: the paused clock does
    /// not move meanwhile.
    async fn ended(&self) {
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        while !self.server.is_finished() {
            assert!(std::time::Instant::now() < give_up, "the connection stayed open");
            tokio::task::yield_now().await;
        }
    }

    /// Waits for the connection task to end; returns what it sent last.
    async fn closed(&mut self) -> Vec<u8> {
        self.ended().await;
        let (bytes, closed) = self.received();
        assert!(closed, "the client saw the close");
        bytes
    }

    /// Waits for the close, which must follow a `408` handed to the
    /// handler once, for `path` (`None`: the head broke before its path).
    async fn timed_out(&mut self, handler: &Counting, path: Option<&str>) {
        assert_eq!(status(&self.closed().await), b"HTTP/1.1 408");
        assert_eq!(handler.count(path, Status::RequestTimeout), 1);
    }

    /// Sends a keep-alive request and returns its whole response.
    async fn request(&mut self, path: &str) -> Vec<u8> {
        self.send_settled(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await;
        let (bytes, closed) = self.received();
        assert!(!bytes.is_empty() && !closed, "answered, and kept open");
        bytes
    }

    /// Virtual time since the accept.
    fn age(&self) -> Duration {
        Instant::now() - self.accepted
    }
}

/// Answers every request `200` with its path, and notes each answer and
/// refusal by path and status: what the server handed it, and how often.
#[derive(Default)]
struct Counting {
    seen: Mutex<Vec<(Option<String>, Status)>>,
}

impl Counting {
    /// How many times `path` got `status` (`None`: a refusal before the
    /// path was read).
    fn count(&self, path: Option<&str>, status: Status) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(p, s)| p.as_deref() == path && *s == status)
            .count()
    }

    fn total(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Handler for Counting {
    type Note = ();
    fn handle(&self, req: &Request<'_>, res: &mut ResponseWriter<'_>) {
        res.respond(Status::Ok, &[], "text/plain", req.path.as_bytes());
        self.seen.lock().unwrap().push((Some(req.path.to_owned()), Status::Ok));
    }
    fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_>) {
        res.respond(rejection.status, &[], "text/plain", b"");
        let path = rejection.path.map(str::to_owned);
        self.seen.lock().unwrap().push((path, rejection.status));
    }
}

/// The clock held still, a counting handler, and a connection to it with
/// the default timeouts.
async fn start() -> (HeldClock, Arc<Counting>, Conn) {
    let clock = HeldClock::hold();
    let handler = Arc::new(Counting::default());
    let c = Conn::open(handler.clone(), DEFAULTS).await;
    (clock, handler, c)
}

fn status(response: &[u8]) -> &[u8] {
    response.get(..12).unwrap_or(response)
}

#[tokio::test(start_paused = true)]
async fn header_timeout_answers_408_at_the_deadline_from_the_accept() {
    let (_clock, handler, mut c) = start().await;
    // The head starts late and never ends: its time still counts from the
    // accept, so waiting before the first byte buys nothing.
    advance(DEFAULTS.header / 2).await;
    c.send_settled(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
    c.open_for(DEFAULTS.header / 2).await;
    c.timed_out(&handler, None).await;
    assert_eq!(c.age(), DEFAULTS.header);
}

#[tokio::test(start_paused = true)]
async fn a_chunked_body_that_stops_gets_408_at_the_header_timeout() {
    let (_clock, handler, mut c) = start().await;
    // The head is whole, the body is not: the answer waits for the body's
    // end, so the header timeout (from the accept) covers it too.
    c.send_settled(b"POST /cpuTempUp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        .await;
    c.open_for(DEFAULTS.header).await;
    c.timed_out(&handler, Some("/cpuTempUp")).await;
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_is_closed_quietly_at_the_header_timeout() {
    let (_clock, handler, mut c) = start().await;
    c.open_for(DEFAULTS.header).await;
    assert_eq!(c.closed().await, b"", "no answer to no request");
    assert_eq!(handler.total(), 0, "and nothing handed to the handler");
}

#[tokio::test(start_paused = true)]
async fn a_slow_trickle_cannot_extend_the_header_timeout() {
    let (_clock, handler, mut c) = start().await;
    assert_eq!(status(&c.request("/").await), b"HTTP/1.1 200");
    // The next head starts 3 s later: its own header timeout counts from its
    // first byte, past the first request's deadline (at 10 s).
    advance(Duration::from_secs(3)).await;
    let first_byte = Instant::now();
    // One byte a second: each well within any per-read timeout, the head as
    // a whole never within the header timeout.
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaa";
    let seconds = DEFAULTS.header.as_secs() as usize;
    assert!(head.len() > seconds);
    for &byte in &head[..seconds] {
        c.assert_open_and_quiet();
        c.send_settled(&[byte]).await;
        advance(Duration::from_secs(1)).await;
    }
    c.timed_out(&handler, None).await;
    assert_eq!(first_byte.elapsed(), DEFAULTS.header);
}

#[tokio::test(start_paused = true)]
async fn an_idle_keep_alive_connection_is_closed_quietly() {
    let (_clock, handler, mut c) = start().await;
    // A busy connection is never idle: a request every half idle timeout
    // keeps it open for ten idle timeouts, far past the header timeout too.
    for _ in 0..20 {
        assert_eq!(status(&c.request("/healthz").await), b"HTTP/1.1 200");
        advance(DEFAULTS.idle / 2).await;
    }
    let last = Instant::now();
    assert_eq!(status(&c.request("/").await), b"HTTP/1.1 200");
    c.open_for(DEFAULTS.idle).await;
    assert_eq!(c.closed().await, b"", "closed without a word");
    assert_eq!(last.elapsed(), DEFAULTS.idle);
    assert_eq!(handler.total(), 21);
    assert_eq!(handler.count(Some("/healthz"), Status::Ok), 20);
}

/// Answers every request with a 1 MiB body.
struct Large(Vec<u8>);

impl Handler for Large {
    type Note = ();
    fn handle(&self, _: &Request<'_>, res: &mut ResponseWriter<'_>) {
        res.respond(Status::Ok, &[], "application/octet-stream", &self.0);
    }
    fn reject(&self, rejection: Rejection<'_>, res: &mut ResponseWriter<'_>) {
        res.respond(rejection.status, &[], "text/plain", b"");
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_that_stops_reading_is_dropped_at_the_write_timeout() {
    let _clock = HeldClock::hold();
    let mut c = Conn::open(Arc::new(Large(vec![b'x'; 1 << 20])), DEFAULTS).await;
    // 32 MiB asked for, more than both sockets' buffers hold, and never read:
    // the server's write stalls as soon as the buffers are full.
    c.send_settled(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(32)).await;
    let stalled = Instant::now();
    advance(DEFAULTS.write - MS).await;
    assert!(!c.server.is_finished(), "still waiting for the client");
    advance(MS).await;
    c.ended().await;
    assert_eq!(stalled.elapsed(), DEFAULTS.write);
}
