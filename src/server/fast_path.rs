//! A new connection's first read, before tokio knows of the socket.
//!
//! With `TCP_DEFER_ACCEPT`, `accept4` hands a connection over once its
//! request has arrived, so one non-blocking `recv` into the worker's buffer
//! usually holds all of it. When those bytes are whole requests, the last of
//! which closes the connection (`Connection: close`, or HTTP/1.0 without
//! keep-alive: busybox wget, `wrk -H 'Connection: close'`, ab), they are
//! answered with one `send` and the socket is closed: no registration with
//! the event loop, no task, no timer, no heap allocation — `accept4`, `recv`,
//! `send`, `close`.
//!
//! Anything else continues on the normal path of
//! [`connection`](super::connection) with the bytes already read and the
//! responses already written, exactly as if they had been read there: a head
//! still incomplete, a keep-alive request (the socket is registered only now,
//! and its first request was answered without waiting for a readiness event),
//! a body still arriving, a rejected request that needs its linger, an answer
//! that waits (`/delay`, `/work`), output the socket did not take whole, or
//! nothing readable yet.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use tokio::time::Instant;

use super::connection::{read_into_worker_buffer_now, ConnectionConfig, ConnectionState, Start};
use super::shutdown::Shutdown;
use crate::http::Handler;

/// Answers what `stream` has already sent. `None`: the connection is done and
/// `stream` may be dropped (closed); `Some`: the normal path takes over.
pub(super) fn answer_first<H: Handler>(
    mut stream: &TcpStream,
    handler: &H,
    shutdown: &Shutdown,
    config: ConnectionConfig,
) -> Option<Start<H::Note>> {
    let accepted = Instant::now();
    let mut state = ConnectionState::new(config.limits);
    let n = match read_into_worker_buffer_now(|buf| stream.read(buf)) {
        Ok(0) => return None, // Closed without a request: nothing to answer or count.
        Ok(n) => n,
        // Accepted before any byte arrived (no TCP_DEFER_ACCEPT, or its wait
        // ran out): the normal path waits, under the header timeout.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
            return Some(Start {
                state,
                answered: None,
                accepted,
            });
        }
        Err(_) => return None,
    };
    let received = Instant::now();
    let answered = state
        .answer(n, received, handler, shutdown.is_triggered(), |d| stream.write(d))
        .ok()?;
    let p = answered.progress;
    if p.close && !p.rejected && !p.waits && state.is_settled() {
        return None;
    }
    Some(Start {
        state,
        answered: Some(answered),
        accepted,
    })
}
