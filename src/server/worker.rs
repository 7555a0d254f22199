//! A worker: one thread, one current-thread tokio runtime, one listener.
//!
//! Connections never move between threads, so a worker's buffers, counters
//! shard and date cache are thread-local and taken without locks.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use super::connection::{busy_connections, serve, ConnectionConfig};
use super::connection_limit::ConnectionLimit;
use super::shutdown::Shutdown;
use crate::http::Handler;
use crate::metrics::set_current_shard;

/// What each worker needs to know.
#[derive(Clone, Copy, Debug)]
pub struct WorkerConfig {
    pub connection: ConnectionConfig,
    pub shutdown_timeout: Duration,
}

pub fn spawn<H: Handler>(
    id: usize,
    listener: std::net::TcpListener,
    handler: Arc<H>,
    shutdown: Arc<Shutdown>,
    limit: Arc<ConnectionLimit>,
    config: WorkerConfig,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("worker-{id}")).spawn(move || {
        set_current_shard(id);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("worker {id}: cannot start runtime: {e}");
                return;
            }
        };
        runtime.block_on(run(listener, handler, shutdown, limit, config));
        // Dropping the runtime closes the connections still open: all idle by
        // now, or past the shutdown timeout.
    })
}

async fn run<H: Handler>(
    listener: std::net::TcpListener,
    handler: Arc<H>,
    shutdown: Arc<Shutdown>,
    limit: Arc<ConnectionLimit>,
    config: WorkerConfig,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot register listener: {e}");
            return;
        }
    };
    // The accept loop runs as its own task so that it never polls the
    // shutdown signal; the signal aborts it instead.
    let accept = tokio::spawn(accept_loop(
        listener,
        handler,
        shutdown.clone(),
        limit,
        config.connection,
    ));
    shutdown.wait().await;
    accept.abort();
    let _ = accept.await;
    let deadline = Instant::now() + config.shutdown_timeout;
    while busy_connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    shutdown: Arc<Shutdown>,
    limit: Arc<ConnectionLimit>,
    config: ConnectionConfig,
) {
    let mut last_log: Option<Instant> = None;
    loop {
        // At the limit, stop accepting: new connections wait in the kernel's
        // backlog while the open ones are served, and are taken as soon as
        // one closes.
        if limit.is_full() {
            if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                eprintln!("at --max-connections ({}): not accepting until one closes", limit.max());
                last_log = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let handler = handler.clone();
                let shutdown = shutdown.clone();
                let slot = limit.acquire();
                tokio::spawn(async move {
                    serve(stream, &*handler, &shutdown, config).await;
                    drop(slot);
                });
            }
            Err(e) => {
                // Out of descriptors or buffers: existing connections keep
                // being served; retry after a pause, log at most once a second.
                if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    eprintln!("accept failed: {e}; retrying");
                    last_log = Some(Instant::now());
                }
                if is_transient(&e) {
                    continue;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Errors about one connection that died before we took it: retry at once.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}
