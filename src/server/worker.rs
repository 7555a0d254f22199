//! A worker: one thread, one current-thread tokio runtime, one listener.
//!
//! Connections never move between threads, so a worker's buffers, counters
//! shard and date cache are thread-local and taken without locks.

use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::accept::Acceptor;
use super::connection::{serve, ConnectionConfig};
use super::connection_limit::ConnectionLimit;
use super::fast_path;
use super::shutdown::Shutdown;
use super::worker_connections::{live_connections, until_none_busy, LiveMark};
use crate::http::Handler;
use crate::metrics::set_current_shard;

/// What each worker needs to know.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkerConfig {
    pub connection: ConnectionConfig,
    pub shutdown_timeout: Duration,
}

pub(super) fn spawn<H: Handler>(
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
    let acceptor = match Acceptor::new(listener) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot register listener: {e}");
            return;
        }
    };
    // The accept loop runs as its own task so that it never polls the
    // shutdown signal; the signal aborts it instead (or, while it waits in a
    // blocking accept4, it sees the signal itself and returns).
    let accept = tokio::spawn(accept_loop(
        acceptor,
        handler,
        shutdown.clone(),
        limit,
        config.connection,
    ));
    shutdown.wait().await;
    accept.abort();
    let _ = accept.await;
    let _ = tokio::time::timeout(config.shutdown_timeout, until_none_busy()).await;
}

async fn accept_loop<H: Handler>(
    mut acceptor: Acceptor,
    handler: Arc<H>,
    shutdown: Arc<Shutdown>,
    limit: Arc<ConnectionLimit>,
    config: ConnectionConfig,
) {
    let mut last_log: Option<Instant> = None;
    let mut log_at_most_once_a_second = |message: std::fmt::Arguments<'_>| {
        if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            // Not `eprintln!`, which panics once stderr's reader is gone.
            let _ = writeln!(std::io::stderr(), "{message}");
            last_log = Some(Instant::now());
        }
    };
    loop {
        // At the limit, stop accepting: new connections wait in the kernel's
        // backlog while the open ones are served, and are taken as soon as
        // one closes.
        if limit.is_full() {
            log_at_most_once_a_second(format_args!(
                "at --max-connections ({}): not accepting until one closes",
                limit.max()
            ));
            limit.until_not_full().await;
            continue;
        }
        match acceptor.accept(live_connections() == 0, &shutdown).await {
            Ok(Some(stream)) => {
                if live_connections() > 0 {
                    // An accept burst must not starve the connections this
                    // worker already serves: AsyncFd's readiness does not
                    // count against tokio's cooperative budget, so count here.
                    tokio::task::consume_budget().await;
                }
                let slot = limit.acquire();
                // A panicking handler loses its connection, as it would in a
                // task (tokio catches those), not the accept loop.
                let first = catch_unwind(AssertUnwindSafe(|| {
                    fast_path::answer_first(&stream, &*handler, &shutdown, config)
                }));
                let Ok(Some(start)) = first else {
                    continue; // Answered and closed (dropping `stream` and `slot`).
                };
                let stream = match TcpStream::from_std(stream) {
                    Ok(s) => s,
                    Err(e) => {
                        log_at_most_once_a_second(format_args!("cannot register a connection: {e}"));
                        continue;
                    }
                };
                // Counted from now, not from the task's first poll: the next
                // accept must not block the thread this task is to run on.
                let live = LiveMark::new();
                tokio::spawn(serve(
                    stream,
                    handler.clone(),
                    shutdown.clone(),
                    config,
                    start,
                    (slot, live),
                ));
            }
            Ok(None) => return, // Shutdown, seen while waiting in accept4.
            Err(e) => {
                // Out of descriptors or buffers: existing connections keep
                // being served; retry after a pause, log at most once a second.
                log_at_most_once_a_second(format_args!("accept failed: {e}; retrying"));
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
