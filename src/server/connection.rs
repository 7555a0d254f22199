//! One connection's I/O loop: read, let the [`Session`] answer, write, repeat.
//!
//! Reads and responses go through one pair of buffers per worker thread, not
//! per connection: a worker runs one task at a time and the bytes are fully
//! handled between two awaits, so an idle keep-alive connection holds no
//! buffer at all. A connection gets buffers of its own only when it must keep
//! bytes across an await: a request head split across reads, input left
//! behind the pipelining bound, or a response the socket would not take at once.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
// Tokio's clock, not std's, for every deadline here: the same reading in
// production, and in tests a clock that can be paused and advanced, so the
// timeouts are tested exactly rather than by sleeping (see `tests` below).
use tokio::time::Instant;

use super::connection_limit::ConnectionSlot;
use super::shutdown::Shutdown;
use super::worker_connections::{BusyMark, LiveMark};
use crate::http::{Handler, Limits, Progress, Session, WRITE_HIGH_WATER};

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
pub(crate) struct ConnectionConfig {
    pub limits: Limits,
    pub timeouts: Timeouts,
}

/// What a connection keeps across awaits.
pub(super) struct ConnectionState<N> {
    session: Session<N>,
    /// Input not yet answered (usually empty, never allocated).
    pending_in: Vec<u8>,
    /// Output the socket did not take at once.
    pending_out: Vec<u8>,
}

/// What answering the input of one read did.
#[derive(Clone, Copy, Debug)]
pub(super) struct Answered {
    pub progress: Progress,
    /// Output reached the high-water mark: write it before reading more.
    pub stalled: bool,
    /// When the answered bytes were read.
    pub received: Instant,
}

/// Where the normal path picks a connection up: from its accept, with what
/// the [fast path](super::fast_path) already did on it.
pub(super) struct Start<N> {
    pub state: ConnectionState<N>,
    /// The first read's answer, already partly or wholly written.
    pub answered: Option<Answered>,
    pub accepted: Instant,
}

impl<N: Copy> ConnectionState<N> {
    pub(super) fn new(limits: Limits) -> ConnectionState<N> {
        ConnectionState {
            session: Session::new(limits),
            pending_in: Vec::new(),
            pending_out: Vec::new(),
        }
    }

    /// Nothing half-read, nothing left to write: the connection may close
    /// or idle without losing a byte.
    pub(super) fn is_settled(&self) -> bool {
        self.pending_in.is_empty() && self.pending_out.is_empty() && self.session.is_idle()
    }

    /// Answers the pending input followed by the `read_len` bytes just read
    /// into the worker's read buffer, and writes what `try_write` takes of the
    /// responses at once; keeps the rest of both for later.
    pub(super) fn answer<H: Handler<Note = N>>(
        &mut self,
        read_len: usize,
        received: Instant,
        handler: &H,
        draining: bool,
        mut try_write: impl FnMut(&[u8]) -> io::Result<usize>,
    ) -> io::Result<Answered> {
        BUFFERS.with(|b| {
            let b = &mut *b.borrow_mut();
            // Left over only if a handler panicked halfway through a response.
            b.write.clear();
            let from_pending = !self.pending_in.is_empty() || read_len == 0;
            if from_pending {
                self.pending_in.extend_from_slice(&b.read[..read_len]);
            }
            let input: &[u8] = if from_pending {
                &self.pending_in
            } else {
                &b.read[..read_len]
            };
            let progress = self
                .session
                .feed(input, received.into_std(), handler, draining, &mut b.write);
            let stalled = b.write.len() >= WRITE_HIGH_WATER;
            if from_pending {
                self.pending_in.drain(..progress.consumed);
            } else {
                self.pending_in.extend_from_slice(&b.read[progress.consumed..read_len]);
            }
            let written = write_now(&mut try_write, &b.write);
            if let Ok(n) = written {
                self.pending_out.extend_from_slice(&b.write[n..]);
            }
            b.write.clear();
            written.map(|_| Answered {
                progress,
                stalled,
                received,
            })
        })
    }
}

impl<N: Copy> ConnectionState<N> {
    /// Writes a deferred answer behind whatever output is still pending.
    fn finish<H: Handler<Note = N>>(
        &mut self,
        handler: &H,
        mut try_write: impl FnMut(&[u8]) -> io::Result<usize>,
    ) -> io::Result<()> {
        BUFFERS.with(|b| {
            let b = &mut *b.borrow_mut();
            b.write.clear();
            self.session.finish(handler, &mut b.write);
            let written = if self.pending_out.is_empty() {
                write_now(&mut try_write, &b.write)
            } else {
                Ok(0)
            };
            if let Ok(n) = written {
                self.pending_out.extend_from_slice(&b.write[n..]);
            }
            b.write.clear();
            written.map(drop)
        })
    }
}

/// Serves `stream` until the client closes, a response closes it, a timeout
/// expires, an I/O error occurs, or a shutdown finds the connection idle.
///
/// This is the connection's whole task: one future, with the counts it holds
/// (`held`: its slot and live mark) inside, kept small (tokio boxes a task's
/// future separately, an allocation more, above 2 KiB in debug builds). Not
/// an `async fn`, which would keep its arguments for its whole life: `Start`
/// (about 300 bytes) is unpacked before the future is built, so the future
/// stores it once.
pub(super) fn serve<H: Handler>(
    mut stream: TcpStream,
    handler: Arc<H>,
    shutdown: Arc<Shutdown>,
    config: ConnectionConfig,
    start: Start<H::Note>,
    held: (ConnectionSlot, LiveMark),
) -> impl Future<Output = io::Result<()>> {
    let Timeouts {
        header: header_timeout,
        idle: idle_timeout,
        write: write_timeout,
    } = config.timeouts;
    let Start {
        mut state,
        mut answered,
        accepted,
    } = start;
    async move {
        // The slot and the live mark are given back when the task ends.
        let _held = held;
        let (stream, handler, shutdown) = (&mut stream, &*handler, &*shutdown);
        let mut busy = BusyMark::default();
        let mut need_read = true;
        // The first request is due within the header timeout of the connection's
        // start; later ones within the idle timeout of the previous one.
        let mut head_started = Some(accepted);
        let mut idle_since = accepted;
        // One timer per connection, moved only when it fires early: requests
        // never touch the timer wheel.
        let mut timer_deadline = accepted + header_timeout;
        let timer = tokio::time::sleep_until(timer_deadline);
        tokio::pin!(timer);
        loop {
            if let Some(Answered {
                progress,
                stalled,
                received,
            }) = answered.take()
            {
                busy.set(true);
                if let Some(wait) = state.session.deferred_wait() {
                    super::deferred::wait(handler, wait).await;
                    state.finish(handler, |d| stream.try_write(d))?;
                }
                if !state.pending_out.is_empty() {
                    // A client that stops reading is given `write` to make progress.
                    match tokio::time::timeout(write_timeout, stream.write_all(&state.pending_out)).await {
                        Ok(result) => result?,
                        Err(_) => return Ok(()),
                    }
                    state.pending_out.clear();
                }
                if progress.close {
                    if progress.rejected || !state.is_settled() {
                        linger(stream).await;
                    }
                    return Ok(());
                }
                if state.is_settled() {
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
                        timer.as_mut().reset(deadline);
                    }
                }
                // After a deferred answer, requests pipelined behind it wait in `pending_in`.
                need_read = !stalled && !progress.waits;
            }
            let mut read_len = 0;
            // When the bytes about to be answered were read: one clock read (vDSO)
            // per read, shared by the timeouts and the latency histogram.
            let received;
            if need_read {
                busy.set(!state.pending_in.is_empty() || !state.session.is_idle());
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
                        timer.as_mut().reset(deadline);
                        continue;
                    }
                    // Part of a head arrived but not all of it, or a chunked body
                    // (answered at its end): say why we close. Nothing at all, or
                    // a slow body after its response: just close.
                    if !state.pending_in.is_empty() || state.session.owes_response() {
                        time_out(stream, &mut state.session, handler);
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
            let draining = shutdown.is_triggered();
            answered = Some(state.answer(read_len, received, handler, draining, |d| stream.try_write(d))?);
        }
    }
}

/// Answers `408` to a head that took too long, then closes without lingering:
/// the client has had its time.
fn time_out<H: Handler>(stream: &TcpStream, session: &mut Session<H::Note>, handler: &H) {
    BUFFERS.with(|b| {
        let b = &mut *b.borrow_mut();
        session.time_out(handler, &mut b.write);
        let _ = write_now(&mut |d: &[u8]| stream.try_write(d), &b.write);
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

/// One read by `read` (a non-blocking socket's) into this worker's read
/// buffer; the bytes stay there for the next [`ConnectionState::answer`].
pub(super) fn read_into_worker_buffer_now(read: impl FnOnce(&mut [u8]) -> io::Result<usize>) -> io::Result<usize> {
    BUFFERS.with(|b| read(&mut b.borrow_mut().read))
}

/// Writes as much of `data` as the socket takes without waiting.
fn write_now(try_write: &mut impl FnMut(&[u8]) -> io::Result<usize>, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match try_write(&data[written..]) {
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

#[cfg(test)]
mod tests;
