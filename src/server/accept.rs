//! Taking new connections off a worker's listener.
//!
//! While the worker has connections for tokio to watch, the listener is
//! non-blocking and accepted in batches after each readiness event, until the
//! kernel says `EAGAIN`. While it has none — every connection so far was
//! answered and closed on the [fast path](super::fast_path) — the event loop
//! would only ever wake for the listener, so the worker waits in `accept4`
//! itself, as the floor server does: one system call per connection instead
//! of `epoll_wait`, `accept4` and an `accept4` that returns `EAGAIN`. A receive
//! timeout on the listener bounds that wait, so a shutdown is seen within
//! [`BLOCKING_WAIT`] even when no connection comes.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::shutdown::Shutdown;

/// Longest wait inside a blocking `accept4` before looking at the shutdown signal.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(super) const BLOCKING_WAIT: Duration = Duration::from_millis(250);

/// A worker's listener, registered with its runtime.
pub(super) struct Acceptor {
    listener: AsyncFd<TcpListener>,
    /// The listener's descriptor is in blocking mode.
    blocking: bool,
}

impl Acceptor {
    /// Registers `listener` (non-blocking) with the current runtime.
    pub(super) fn new(listener: TcpListener) -> io::Result<Acceptor> {
        #[cfg(target_os = "linux")]
        set_accept_timeout(&listener, BLOCKING_WAIT)?;
        // SAFETY: the `TcpListener` owns its descriptor, and the `AsyncFd`
        // owns the listener for as long as the registration lives.
        let listener =
            unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) }.map_err(|e| e.into_parts().1)?;
        Ok(Acceptor {
            listener,
            blocking: false,
        })
    }

    /// The next connection, as a non-blocking socket; `None` when `shutdown`
    /// was triggered while waiting in a blocking `accept4`.
    ///
    /// `worker_idle` says the worker has no connection of its own to serve, so
    /// blocking the thread holds nothing up (Linux only; elsewhere it always
    /// waits for readiness).
    pub(super) async fn accept(&mut self, worker_idle: bool, shutdown: &Shutdown) -> io::Result<Option<TcpStream>> {
        if worker_idle && cfg!(target_os = "linux") {
            if !self.blocking {
                self.listener.get_ref().set_nonblocking(false)?;
                self.blocking = true;
            }
            loop {
                match accept_nonblocking_socket(self.listener.get_ref()) {
                    Ok(stream) => return Ok(Some(stream)),
                    // The receive timeout expired with no connection.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if shutdown.is_triggered() {
                            return Ok(None);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if self.blocking {
            self.listener.get_ref().set_nonblocking(true)?;
            self.blocking = false;
        }
        loop {
            let mut ready = self.listener.readable().await?;
            // `try_io` clears the readiness only when accept4 says EAGAIN, so
            // every connection of a burst is taken before the next wait.
            if let Ok(result) = ready.try_io(|l| accept_nonblocking_socket(l.get_ref())) {
                return result.map(Some);
            }
        }
    }
}

/// `accept4` with the new socket non-blocking and close-on-exec: no `fcntl`
/// afterwards.
#[cfg(target_os = "linux")]
fn accept_nonblocking_socket(listener: &TcpListener) -> io::Result<TcpStream> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: a valid listening descriptor; null address pointers are allowed
    // (the peer's address is not wanted).
    let fd = unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: accept4 returned a new descriptor that nothing else owns.
    Ok(unsafe { TcpStream::from_raw_fd(fd) })
}

#[cfg(not(target_os = "linux"))]
fn accept_nonblocking_socket(listener: &TcpListener) -> io::Result<TcpStream> {
    let (stream, _) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// Bounds a blocking `accept4` (Linux applies `SO_RCVTIMEO` to it).
#[cfg(target_os = "linux")]
fn set_accept_timeout(listener: &TcpListener, wait: Duration) -> io::Result<()> {
    socket2::SockRef::from(listener).set_read_timeout(Some(wait))
}
