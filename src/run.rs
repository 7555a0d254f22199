//! The binary's whole life: parse flags, build the app, serve until SIGTERM
//! or SIGINT, drain, exit 0; or run a subcommand (`loadgen`, `check`,
//! `doctor`) and exit with its status. A server that cannot start or stops
//! on an error is one [`ServeError`], printed as one `error:` line, exit 1,
//! from one place in [`main`]. `src/main.rs` only calls [`main`], so what
//! the binary needs from the library stays inside it.

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::app::App;
use crate::config::{Cli, Command};
use crate::server::{Server, Shutdown};
use crate::temperature::{build_source, ChangeLog};

/// The `custom-metrics-app` binary's `main`: parse the process's flags, then
/// serve or run a subcommand, and exit with its status: the one place the
/// process exits after its flags were read.
pub fn main() {
    let cli = Cli::parse_or_exit(std::env::args_os());
    let status = match &cli.command {
        Some(Command::Loadgen(args)) => crate::loadgen::run(args),
        Some(Command::Check(args)) => crate::check::run(args),
        Some(Command::Doctor(args)) => crate::doctor::run(args),
        None => match serve(&cli) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
    };
    std::process::exit(status);
}

/// Why the server could not start, or stopped serving.
#[derive(Debug)]
enum ServeError {
    TemperatureSampler(io::Error),
    RequestLog(io::Error),
    Listen(SocketAddr, io::Error),
    TemperatureLog(io::Error),
    Signals(io::Error),
    Serve(io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::TemperatureSampler(e) => write!(f, "cannot start the temperature sampler: {e}"),
            ServeError::RequestLog(e) => write!(f, "cannot start the request log: {e}"),
            ServeError::Listen(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::TemperatureLog(e) => write!(f, "cannot start the temperature log: {e}"),
            ServeError::Signals(e) => write!(f, "cannot install signal handlers: {e}"),
            ServeError::Serve(e) => write!(f, "{e}"),
        }
    }
}

/// Builds the app, serves until SIGTERM or SIGINT, drains.
fn serve(cli: &Cli) -> Result<(), ServeError> {
    let config = cli.server_config();
    // One counter shard per worker thread: no more for a scrape to sum.
    crate::metrics::set_shard_count(config.workers);
    raise_open_file_limit();
    let shutdown = Arc::new(Shutdown::new());
    // Kept until exit: dropping it would stop the sensor sampler.
    let temperature_config = cli.temperature_config();
    let temperature = build_source(&temperature_config).map_err(ServeError::TemperatureSampler)?;
    let app = App::with_collectors(
        temperature.source.clone(),
        temperature.collectors.clone(),
        shutdown.clone(),
    )
    .with_openmetrics(!cli.no_openmetrics)
    .with_experiments(cli.experiments.is_on())
    .with_options(cli.app_options())
    .map_err(ServeError::RequestLog)?;
    let app = Arc::new(app);

    let server = Server::bind(config).map_err(|e| ServeError::Listen(config.listen, e))?;
    watch_signals(shutdown.clone()).map_err(ServeError::Signals)?;
    // Said once SIGTERM is handled: whoever waits for this line may stop
    // the server from then on.
    eprintln!(
        "custom-metrics-app {} listening on {} with {} worker(s); temperature source: {}; experiment routes: {}",
        env!("CARGO_PKG_VERSION"),
        server.local_addr(),
        config.workers,
        temperature.summary,
        if cli.experiments.is_on() {
            "on"
        } else {
            "off (--experiments off)"
        },
    );
    // Kept until exit: dropping it stops the temperature change log. It
    // looks as often as the sensors are sampled.
    let interval = temperature_config.sampler.interval;
    let _temperature_log = ChangeLog::start(temperature.source.clone(), interval, |line| {
        let _ = writeln!(io::stderr(), "{line}");
    })
    .map_err(ServeError::TemperatureLog)?;
    server.run(app.clone(), shutdown).map_err(ServeError::Serve)?;
    if let Some(log) = app.request_log() {
        log.flush(std::time::Duration::from_secs(2));
    }
    drop(temperature);
    // `writeln!`, not `eprintln!`, wherever the server may be running: with
    // stderr's reader gone, `eprintln!` panics (exit 101 after a clean drain).
    let _ = writeln!(io::stderr(), "custom-metrics-app: shut down");
    Ok(())
}

/// Triggers `shutdown` on the first SIGTERM or SIGINT, from a small thread of its own.
fn watch_signals(shutdown: Arc<Shutdown>) -> io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (mut term, mut int) = rt
        .block_on(async { Ok::<_, io::Error>((signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)) })?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        let name = rt.block_on(async {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        });
        // Not `eprintln!`: with stderr closed (its reader gone) it panics,
        // and this thread would die before the shutdown it is for.
        let _ = writeln!(io::stderr(), "{name}: shutting down");
        shutdown.trigger();
    })?;
    Ok(())
}

/// Raises the soft limit on open files to the hard limit, as Go programs do:
/// the soft default (often 1024) is far below what a connection-heavy server
/// needs, and the hard limit is what the operator actually allowed. Failing
/// is not fatal: the server runs within the soft limit, and says so.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to write.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        let e = io::Error::last_os_error();
        eprintln!("warning: cannot read the open-file limit: {e}");
        return;
    }
    let wanted = open_file_ceiling(limit.rlim_max);
    if limit.rlim_cur >= wanted {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid rlimit for setrlimit to read.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let e = io::Error::last_os_error();
        eprintln!(
            "warning: cannot raise the open-file limit from {} to {wanted}: {e}; at most that many connections",
            limit.rlim_cur
        );
    }
}

/// The highest soft limit setrlimit accepts: the hard limit.
#[cfg(not(target_os = "macos"))]
fn open_file_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
    hard
}

/// The highest soft limit setrlimit accepts: on macOS the hard limit is
/// usually `RLIM_INFINITY`, which it refuses, as it refuses anything above
/// `kern.maxfilesperproc`; so the lower of the two, as Go's runtime does
/// (`OPEN_MAX`, the old ceiling, when the sysctl cannot be read).
#[cfg(target_os = "macos")]
fn open_file_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
    /// `OPEN_MAX` of `<sys/syslimits.h>`.
    const OPEN_MAX: libc::rlim_t = 10_240;
    let mut per_process: libc::c_int = 0;
    let mut size = std::mem::size_of::<libc::c_int>();
    // SAFETY: a NUL-terminated name; `per_process` is a writable c_int and
    // `size` its size; no new value is set (null, 0).
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.maxfilesperproc".as_ptr(),
            (&mut per_process as *mut libc::c_int).cast(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    let ceiling = if rc == 0 && per_process > 0 {
        per_process as libc::rlim_t
    } else {
        OPEN_MAX
    };
    hard.min(ceiling)
}
