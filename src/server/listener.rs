//! Listening sockets: one per worker, bound with `SO_REUSEPORT` so the kernel
//! spreads new connections across workers without a shared accept queue.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

const BACKLOG: i32 = 4096;

/// Binds `count` listeners on `addr`. With port 0 the first one picks the
/// port and the others join it.
///
/// With `defer_accept` (Linux), the kernel hands a connection over only once
/// its first bytes have arrived, or after about that long without any: a
/// connection-per-request client is then accepted with its request already
/// readable, and answered without waiting for a readiness event.
pub(super) fn bind_reuseport(
    addr: SocketAddr,
    count: usize,
    defer_accept: Option<Duration>,
) -> io::Result<Vec<TcpListener>> {
    let first = bind_one(addr, defer_accept)?;
    let actual = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..count.max(1) {
        listeners.push(bind_one(actual, defer_accept)?);
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr, defer_accept: Option<Duration>) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    // Accepted sockets inherit TCP_NODELAY on Linux: no setsockopt per connection.
    socket.set_tcp_nodelay(true)?;
    socket.set_nonblocking(true)?;
    #[cfg(target_os = "linux")]
    if let Some(wait) = defer_accept {
        // Whole seconds, at least one: the kernel turns them into a number of
        // SYN-ACK retransmissions (1 s, then doubling), as nginx's `deferred` does.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        set_defer_accept(&socket, secs.clamp(1, i32::MAX as u64) as libc::c_int)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = defer_accept;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

#[cfg(target_os = "linux")]
fn set_defer_accept(socket: &Socket, secs: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the whole call, and the option value
    // is a c_int whose size is passed along with its address.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&secs as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
