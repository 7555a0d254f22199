//! Sockets and threads: listeners, workers, connections, shutdown.
//!
//! `Server::bind` opens one `SO_REUSEPORT` listener per worker; `run` starts
//! one thread with a current-thread tokio runtime per listener and blocks
//! until the [`Shutdown`] has been triggered and the workers have drained.

mod accept;
mod connection;
mod connection_limit;
mod deferred;
mod fast_path;
mod listener;
mod shutdown;
mod worker;
mod worker_connections;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub(crate) use connection::{ConnectionConfig, Timeouts};
pub(crate) use connection_limit::ConnectionLimit;
pub use shutdown::Shutdown;
pub(crate) use worker::WorkerConfig;

use crate::http::{Handler, Limits};

/// How the server listens and behaves.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub workers: usize,
    pub limits: Limits,
    pub timeouts: Timeouts,
    /// Open connections beyond which workers stop accepting.
    pub max_connections: usize,
    /// How long a shutdown waits for busy connections before closing them.
    pub shutdown_timeout: Duration,
    /// Let the kernel hand over connections only once they have sent
    /// something (`TCP_DEFER_ACCEPT`, Linux; for at most the header timeout).
    pub defer_accept: bool,
}

impl ServerConfig {
    /// The defaults, written only here: the command line's flags show them
    /// in `--help` and fall back to them. (`workers` is 1 here; the command
    /// line's default is one per available core.)
    pub const DEFAULT: ServerConfig = ServerConfig {
        listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 3000)),
        workers: 1,
        limits: Limits { max_body: 64 * 1024 },
        timeouts: Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            write: Duration::from_secs(10),
        },
        max_connections: 20_000,
        shutdown_timeout: Duration::from_secs(20),
        defer_accept: true,
    };

    /// The defaults, listening on `listen`.
    pub fn new(listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            listen,
            ..ServerConfig::DEFAULT
        }
    }
}

/// Bound listeners, ready to run.
pub struct Server {
    listeners: Vec<std::net::TcpListener>,
    local_addr: SocketAddr,
    config: ServerConfig,
}

impl Server {
    /// Binds the listeners (fails here, before any thread starts, if the address is taken).
    pub fn bind(config: ServerConfig) -> io::Result<Server> {
        let defer = config.defer_accept.then_some(config.timeouts.header);
        let listeners = listener::bind_reuseport(config.listen, config.workers, defer)?;
        let local_addr = listeners[0].local_addr()?;
        Ok(Server {
            listeners,
            local_addr,
            config,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` is triggered and every worker has drained.
    pub fn run<H: Handler>(self, handler: Arc<H>, shutdown: Arc<Shutdown>) -> io::Result<()> {
        for worker in self.start(handler, shutdown)? {
            let _ = worker.join();
        }
        Ok(())
    }

    /// Serves on background threads; for tests, benchmarks and embedding.
    pub fn spawn<H: Handler>(self, handler: Arc<H>, shutdown: Arc<Shutdown>) -> io::Result<RunningServer> {
        let addr = self.local_addr;
        let workers = self.start(handler, shutdown.clone())?;
        Ok(RunningServer {
            addr,
            shutdown,
            workers,
        })
    }

    fn start<H: Handler>(self, handler: Arc<H>, shutdown: Arc<Shutdown>) -> io::Result<Vec<JoinHandle<()>>> {
        let connection = ConnectionConfig {
            limits: self.config.limits,
            timeouts: self.config.timeouts,
        };
        let config = WorkerConfig {
            connection,
            shutdown_timeout: self.config.shutdown_timeout,
        };
        let limit = ConnectionLimit::new(self.config.max_connections);
        self.listeners
            .into_iter()
            .enumerate()
            .map(|(id, l)| worker::spawn(id, l, handler.clone(), shutdown.clone(), limit.clone(), config))
            .collect()
    }
}

/// A server running on background threads.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: Arc<Shutdown>,
    workers: Vec<JoinHandle<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Triggers the shutdown and waits for the workers to finish.
    pub fn stop(self) {
        self.shutdown.trigger();
        for w in self.workers {
            let _ = w.join();
        }
    }
}
