//! One connection's I/O loop: read, let the [`Session`] answer, write, repeat.
//!
//! Reads and responses go through one pair of buffers per worker thread, not
//! per connection: a worker runs one task at a time and the bytes are fully
//! handled between two awaits, so an idle keep-alive connection holds no
//! buffer at all. A connection gets buffers of its own only when it must keep
//! bytes across an await: a request head split across reads, input left
//! behind the pipelining bound, or a response the socket would not take at once.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::shutdown::Shutdown;
use crate::http::{Handler, Limits, Session, WRITE_HIGH_WATER};

/// One read takes at most this much: room for many pipelined requests.
const READ_CHUNK: usize = 64 * 1024;
/// After refusing a request, read (and drop) what the client still sends for
/// at most this long, so closing does not turn into a reset that destroys the
/// error response before the client has read it.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;

struct WorkerBuffers {
    read: Box<[u8]>,
    write: Vec<u8>,
}

thread_local! {
    static BUFFERS: RefCell<WorkerBuffers> = RefCell::new(WorkerBuffers {
        read: vec![0; READ_CHUNK].into_boxed_slice(),
        write: Vec::with_capacity(WRITE_HIGH_WATER + 16 * 1024),
    });
    static BUSY: Cell<usize> = const { Cell::new(0) };
}

/// Connections on this worker thread that are in the middle of a request
/// (a shutdown waits for these; idle keep-alive connections are just closed).
pub fn busy_connections() -> usize {
    BUSY.with(Cell::get)
}

/// Marks its connection busy in this thread's count while set.
#[derive(Default)]
struct BusyMark(bool);

impl BusyMark {
    fn set(&mut self, busy: bool) {
        if busy != self.0 {
            self.0 = busy;
            BUSY.with(|b| b.set(if busy { b.get() + 1 } else { b.get() - 1 }));
        }
    }
}

impl Drop for BusyMark {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// How long a connection may take, at each stage.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From a connection's start, or a request head's first bytes, to the
    /// end of that head (slowloris); answered with `408`.
    pub header: Duration,
    /// Between requests on a keep-alive connection; closed quietly.
    pub idle: Duration,
    /// Without progress writing a response to a client that does not read.
    pub write: Duration,
}

/// What every connection of a server is configured with.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionConfig {
    pub limits: Limits,
    pub timeouts: Timeouts,
}

/// Serves `stream` until the client closes, a response closes it, a timeout
/// expires, an I/O error occurs, or a shutdown finds the connection idle.
pub async fn serve<H: Handler + ?Sized>(
    mut stream: TcpStream,
    handler: &H,
    shutdown: &Shutdown,
    config: ConnectionConfig,
) {
    let _ = run(&mut stream, handler, shutdown, config).await;
}

async fn run<H: Handler + ?Sized>(
    stream: &mut TcpStream,
    handler: &H,
    shutdown: &Shutdown,
    config: ConnectionConfig,
) -> io::Result<()> {
    let Timeouts {
        header: header_timeout,
        idle: idle_timeout,
        write: write_timeout,
    } = config.timeouts;
    let mut session = Session::new(config.limits);
    // Input not yet answered, kept across awaits (usually empty, never allocated).
    let mut pending_in: Vec<u8> = Vec::new();
    // Output the socket did not take at once.
    let mut pending_out: Vec<u8> = Vec::new();
    let mut busy = BusyMark::default();
    let mut need_read = true;
    // The first request is due within the header timeout of the connection's
    // start; later ones within the idle timeout of the previous one.
    let mut head_started = Some(Instant::now());
    let mut idle_since = Instant::now();
    // One timer per connection, moved only when it fires early: requests
    // never touch the timer wheel.
    let mut timer_deadline = Instant::now() + header_timeout;
    let timer = tokio::time::sleep_until(timer_deadline.into());
    tokio::pin!(timer);
    loop {
        let mut read_len = 0;
        // When the bytes about to be answered were read: one clock read (vDSO)
        // per read, shared by the timeouts and the latency histogram.
        let received;
        if need_read {
            busy.set(!pending_in.is_empty() || !session.is_idle());
            let read = tokio::select! {
                biased;
                r = poll_fn(|cx| read_into_worker_buffer(stream, cx)) => Some(r?),
                () = &mut timer => None,
            };
            received = Instant::now();
            let Some(n) = read else {
                let deadline = match head_started {
                    Some(start) => start + header_timeout,
                    None => idle_since + idle_timeout,
                };
                if received < deadline {
                    timer_deadline = deadline;
                    timer.as_mut().reset(deadline.into());
                    continue;
                }
                // Part of a head arrived but not all of it, or a chunked body
                // (answered at its end): say why we close. Nothing at all, or
                // a slow body after its response: just close.
                if !pending_in.is_empty() || session.owes_response() {
                    time_out(stream, &mut session, handler);
                }
                return Ok(());
            };
            if n == 0 {
                return Ok(()); // The client closed; a half-sent request gets no answer.
            }
            read_len = n;
            busy.set(true);
        } else {
            received = Instant::now();
        }
        // Answer and write without awaiting, so the worker buffers can be used.
        let step = BUFFERS.with(|b| {
            let b = &mut *b.borrow_mut();
            let from_pending = !pending_in.is_empty() || !need_read;
            if from_pending && need_read {
                pending_in.extend_from_slice(&b.read[..read_len]);
            }
            let input: &[u8] = if from_pending { &pending_in } else { &b.read[..read_len] };
            let progress = session.feed(input, received, handler, shutdown.is_triggered(), &mut b.write);
            let stalled = b.write.len() >= WRITE_HIGH_WATER;
            if from_pending {
                pending_in.drain(..progress.consumed);
            } else {
                pending_in.extend_from_slice(&b.read[progress.consumed..read_len]);
            }
            let written = write_now(stream, &b.write);
            if let Ok(n) = written {
                pending_out.extend_from_slice(&b.write[n..]);
            }
            b.write.clear();
            written.map(|_| (progress, stalled))
        });
        let (progress, stalled) = step?;
        if !pending_out.is_empty() {
            // A client that stops reading is given `write` to make progress.
            match tokio::time::timeout(write_timeout, stream.write_all(&pending_out)).await {
                Ok(result) => result?,
                Err(_) => return Ok(()),
            }
            pending_out.clear();
        }
        if progress.close {
            if progress.rejected || !pending_in.is_empty() || !session.is_idle() {
                linger(stream).await;
            }
            return Ok(());
        }
        if pending_in.is_empty() && session.is_idle() {
            if shutdown.is_triggered() {
                return Ok(());
            }
            head_started = None;
            idle_since = received;
        } else if head_started.is_none() || progress.responses > 0 {
            // Part of the next head (or body) arrived: its clock starts now,
            // and the timer must not wait for a later idle deadline.
            head_started = Some(received);
            let deadline = received + header_timeout;
            if deadline < timer_deadline {
                timer_deadline = deadline;
                timer.as_mut().reset(deadline.into());
            }
        }
        need_read = !stalled;
    }
}

/// Answers `408` to a head that took too long, then closes without lingering:
/// the client has had its time.
fn time_out<H: Handler + ?Sized>(stream: &TcpStream, session: &mut Session, handler: &H) {
    BUFFERS.with(|b| {
        let b = &mut *b.borrow_mut();
        session.time_out(handler, &mut b.write);
        let _ = write_now(stream, &b.write);
        b.write.clear();
    });
}

/// Reads once into this worker's read buffer; the bytes are valid until the
/// task next awaits.
fn read_into_worker_buffer(stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    BUFFERS.with(|b| {
        let mut b = b.borrow_mut();
        let mut buf = ReadBuf::new(&mut b.read);
        match Pin::new(stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    })
}

/// Writes as much of `data` as the socket takes without waiting.
fn write_now(stream: &TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match stream.try_write(&data[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

/// Half-closes, then drains what the client still sends, bounded in time and bytes.
async fn linger(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = vec![0u8; 4096];
    let drain = async {
        let mut total = 0;
        while total < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}
