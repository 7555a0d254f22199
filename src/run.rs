//! The binary's whole life: parse flags, build the app, serve until SIGTERM
//! or SIGINT, drain, exit 0; or, for `custom-metrics-app loadgen ...`, run
//! the load generator, and for `custom-metrics-app check ...` the self-test.
//! `src/main.rs` only calls [`main`], so what the binary needs from the
//! library stays inside it.

use std::sync::Arc;

use crate::app::App;
use crate::config::{Cli, Command};
use crate::server::{Server, Shutdown};
use crate::temperature::{build_source, ChangeLog};

/// The `custom-metrics-app` binary's `main`: parse the process's flags, then
/// serve or run `loadgen`; exits the process on any error.
pub fn main() {
    let cli = Cli::parse_or_exit(std::env::args_os());
    match &cli.command {
        Some(Command::Loadgen(args)) => std::process::exit(crate::loadgen::run(args)),
        Some(Command::Check(args)) => std::process::exit(crate::check::run(args)),
        Some(Command::Doctor(args)) => std::process::exit(crate::doctor::run(args)),
        None => {}
    }
    let config = cli.server_config();
    // One counter shard per worker thread: no more for a scrape to sum.
    crate::metrics::set_shard_count(config.workers);
    raise_open_file_limit();
    let shutdown = Arc::new(Shutdown::new());
    // Kept until exit: dropping it would stop the sensor sampler.
    let temperature = match build_source(&cli.temperature_config()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the temperature sampler: {e}");
            std::process::exit(1);
        }
    };
    let app = App::with_collectors(
        temperature.source.clone(),
        temperature.collectors.clone(),
        shutdown.clone(),
    )
    .with_openmetrics(!cli.no_openmetrics)
    .with_experiments(cli.experiments.is_on())
    .with_options(cli.app_options());
    let app = match app {
        Ok(app) => Arc::new(app),
        Err(e) => {
            eprintln!("error: cannot start the request log: {e}");
            std::process::exit(1);
        }
    };

    let server = match Server::bind(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
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
    let interval = cli.temperature_config().interval;
    let _temperature_log = match ChangeLog::start(temperature.source.clone(), interval, |line| eprintln!("{line}")) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("error: cannot start the temperature log: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = watch_signals(shutdown.clone()) {
        eprintln!("error: cannot install signal handlers: {e}");
        std::process::exit(1);
    }
    if let Err(e) = server.run(app.clone(), shutdown) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    if let Some(log) = app.request_log() {
        log.flush(std::time::Duration::from_secs(2));
    }
    drop(temperature);
    eprintln!("custom-metrics-app: shut down");
}

/// Triggers `shutdown` on the first SIGTERM or SIGINT, from a small thread of its own.
fn watch_signals(shutdown: Arc<Shutdown>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (mut term, mut int) = rt.block_on(async {
        Ok::<_, std::io::Error>((signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?))
    })?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = term.recv() => eprintln!("SIGTERM: shutting down"),
                _ = int.recv() => eprintln!("SIGINT: shutting down"),
            }
        });
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
        let e = std::io::Error::last_os_error();
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
        let e = std::io::Error::last_os_error();
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
