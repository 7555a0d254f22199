//! `custom-metrics-app loadgen`: the load generator the image carries, so
//! the Kubernetes experiments (deploy/loadgen/) and the end-to-end test
//! drive load with the app's own binary instead of a `wget` loop.
//!
//! - [`args`]: flags, bounds, environment variables;
//! - [`target`]: the `http://host:port/path` URL and its resolution;
//! - [`stages`]: `--stages`, the load's shape (ramp, hold, stop);
//! - [`schedule`]: open-loop due times and the tickets connections claim;
//! - [`client`]: the HTTP/1.1 client, `close` or `keep-alive`;
//! - [`stats`], [`histogram`]: what is counted, latency percentiles;
//! - [`report`]: progress lines and the final summary.
//!
//! The generator runs on one thread, a current-thread tokio runtime with a
//! `LocalSet`: one core sends tens of thousands of requests a second, more
//! than the experiments need (6000/s), and a single thread leaves the other
//! cores to the server when both share a machine (CI, the end-to-end test),
//! keeps the due times from drifting through cross-thread wake-ups, and lets
//! the counters be plain `Cell`/`RefCell` instead of shared atomics.

pub(crate) mod args;
pub(crate) mod client;
pub(crate) mod histogram;
pub(crate) mod report;
pub(crate) mod schedule;
pub(crate) mod stages;
pub(crate) mod stats;
pub(crate) mod target;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::LocalSet;
use tokio::time::Instant;

pub(crate) use args::LoadgenArgs;
use args::{ConnectionMode, Output};
use client::{Connection, ErrorKind};
use report::{Plan, Summary};
use schedule::{Schedule, Tickets};
use stats::{Outcome, Stats};

/// How long a `close` connection waits for the server's FIN after the
/// response, at most (the app closes at once; see [`client`]).
const CLOSE_WAIT_LIMIT: Duration = Duration::from_secs(1);

/// Runs the load described by `args`, prints the summary on stdout, and
/// returns the exit status: 0 when at least one request was answered, 1 when
/// none was (unreachable target, name that does not resolve).
pub(crate) fn run(args: &LoadgenArgs) -> i32 {
    let addrs: Rc<[SocketAddr]> = match args.url.resolve() {
        Ok(a) => a.into(),
        Err(e) => {
            eprintln!("error: cannot resolve {}: {e}", args.url.host);
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let schedule = Schedule::staged(args.stages());
    let plan = Plan {
        url: args.url.clone(),
        method: args.method,
        connection: args.connection,
        concurrency: args.concurrency,
        stages: schedule.stages().to_vec(),
        duration: schedule.duration(),
        planned: schedule.planned(),
        planned_per_stage: (0..schedule.stages().len()).map(|k| schedule.planned_in(k)).collect(),
    };
    eprintln!(
        "loadgen: {} {} ({}) at {} with up to {} connection(s): {} requests",
        plan.method.name(),
        plan.url,
        addrs.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(", "),
        plan.asked(),
        plan.concurrency,
        plan.planned,
    );
    let run = Run {
        stage_stats: RefCell::new(vec![Stats::default(); plan.stages.len()]),
        tickets: Tickets::new(schedule),
        stats: RefCell::new(Stats::default()),
        stop: Notify::new(),
        request: client::request_bytes(args.method, &args.url, args.connection),
        addrs,
        mode: args.connection,
        timeout: args.timeout,
        start: Instant::now(),
    };
    let run = Rc::new(run);
    let elapsed = LocalSet::new().block_on(&runtime, drive(run.clone(), args.concurrency, args.progress));
    let stats = run.stats.borrow();
    let stage_stats = run.stage_stats.borrow();
    let summary = Summary {
        plan: &plan,
        stats: &stats,
        stage_stats: &stage_stats,
        elapsed,
        // Claimed tickets still waiting for their time when the run was
        // interrupted were not sent either: count what was attempted.
        unsent: plan.planned - (stats.completed + stats.errors()),
        interrupted: run.tickets.stopped(),
    };
    match args.output {
        Output::Text => print!("{summary}"),
        Output::Json => println!("{}", summary.to_json()),
    }
    let _ = std::io::Write::flush(&mut std::io::stdout());
    summary.exit_code()
}

/// The state the connection tasks share (on one thread).
struct Run {
    tickets: Tickets,
    stats: RefCell<Stats>,
    /// Per stage, the requests sent while it lasted: what was achieved when.
    stage_stats: RefCell<Vec<Stats>>,
    /// Wakes the connections waiting for a due time when the run is interrupted.
    stop: Notify,
    request: Vec<u8>,
    addrs: Rc<[SocketAddr]>,
    mode: ConnectionMode,
    timeout: Duration,
    start: Instant,
}

/// Starts the connections, the progress line and the signal watch; returns
/// when every connection is done, with the time since the start.
async fn drive(run: Rc<Run>, concurrency: usize, progress: Duration) -> Duration {
    let connections: Vec<_> = (0..concurrency)
        .map(|_| tokio::task::spawn_local(connection(run.clone())))
        .collect();
    let progress = (!progress.is_zero()).then(|| tokio::task::spawn_local(report_progress(run.clone(), progress)));
    let signals = tokio::task::spawn_local(stop_on_signal(run.clone()));
    for c in connections {
        // A panicking connection task must not lose the others' counts.
        let _ = c.await;
    }
    let elapsed = run.start.elapsed();
    if let Some(p) = progress {
        p.abort();
    }
    signals.abort();
    elapsed
}

/// One connection: claims the next due request, waits for its time, sends
/// it, records the outcome; until the tickets run out.
async fn connection(run: Rc<Run>) {
    let mut conn = Connection::new(run.addrs.clone(), run.mode);
    // Created before each claim, so a stop between claim and wait is not missed.
    let mut stopped = std::pin::pin!(run.stop.notified());
    while let Some(ticket) = run.tickets.claim(run.start.elapsed()) {
        let due = run.start + ticket.due;
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = stopped.as_mut() => break,
        }
        // A late request's latency counts from its due time: the wait for a
        // free connection is the server's slowness too.
        let began = if ticket.late { due } else { Instant::now() };
        let stage = run.tickets.schedule().stage_at(Instant::now() - run.start);
        let result = match tokio::time::timeout(run.timeout, conn.send(&run.request)).await {
            Ok(r) => r,
            Err(_) => {
                conn.reset();
                Err(ErrorKind::Timeout)
            }
        };
        let outcome = Outcome {
            late: ticket.late,
            written: conn.request_written(),
            result,
            latency: began.elapsed(),
        };
        run.stats.borrow_mut().record(&outcome);
        run.stage_stats.borrow_mut()[stage].record(&outcome);
        match run.mode {
            ConnectionMode::Close => conn.finish(CLOSE_WAIT_LIMIT.min(run.timeout)).await,
            ConnectionMode::Once => conn.reset(),
            ConnectionMode::KeepAlive => {}
        }
    }
}

/// A progress line on stderr every `every`.
async fn report_progress(run: Rc<Run>, every: Duration) {
    let mut ticks = tokio::time::interval_at(run.start + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = (run.start, 0u64);
    loop {
        let now = ticks.tick().await;
        let stats = run.stats.borrow();
        let secs = (now - last.0).as_secs_f64();
        let recent = (stats.completed - last.1) as f64 / secs;
        eprintln!(
            "{}",
            report::progress_line(now - run.start, run.tickets.schedule().duration(), &stats, recent)
        );
        last = (now, stats.completed);
    }
}

/// SIGINT or SIGTERM: send nothing more, let the requests in flight finish
/// (each within `--timeout`), and print the summary as usual.
async fn stop_on_signal(run: Rc<Run>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    eprintln!("loadgen: {name}: stopping, waiting for the requests in flight");
    run.tickets.stop();
    run.stop.notify_waiters();
}
