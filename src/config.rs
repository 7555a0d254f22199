//! Command line and environment: every flag has an environment variable, and
//! a bad value is one error line and exit code 2.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use clap::Parser;

use crate::http::Limits;
use crate::server::ServerConfig;

/// A tiny, fast sample workload for Kubernetes custom-metrics autoscaling.
///
/// Serves `/` ("custom metrics"), `/cpuTempUp`, `/cpuTempDown`, `/metrics`
/// (Prometheus text format), `/healthz` and `/readyz`.
#[derive(Parser, Debug, Clone)]
#[command(name = "custom-metrics-app", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on (IPv4 or [IPv6]:port).
    #[arg(long, env = "CMA_LISTEN", default_value = "0.0.0.0:3000", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Worker threads, each with its own runtime and listener [default: available cores].
    #[arg(long, env = "CMA_WORKERS", value_name = "N")]
    pub workers: Option<NonZeroUsize>,

    /// Starting value of the simulated temperature, in °C.
    #[arg(long, env = "CMA_SIM_START", default_value_t = 50.0, value_name = "CELSIUS", value_parser = finite)]
    pub sim_start: f64,

    /// How far /cpuTempUp and /cpuTempDown move the simulated temperature, in °C.
    #[arg(long, env = "CMA_SIM_STEP", default_value_t = 10.0, value_name = "CELSIUS", value_parser = finite)]
    pub sim_step: f64,

    /// Largest request body read and discarded; larger ones get 413.
    #[arg(long, env = "CMA_MAX_BODY_BYTES", default_value_t = 65_536, value_name = "BYTES")]
    pub max_body_bytes: u64,

    /// Always answer /metrics in the 0.0.4 text format, even to scrapers that prefer OpenMetrics.
    #[arg(long, env = "CMA_NO_OPENMETRICS")]
    pub no_openmetrics: bool,

    /// Seconds a shutdown (SIGTERM/SIGINT) waits for requests in progress.
    #[arg(long, env = "CMA_SHUTDOWN_TIMEOUT", default_value_t = 20.0, value_name = "SECONDS", value_parser = seconds)]
    pub shutdown_timeout: f64,
}

fn finite(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("expected a finite number".into()),
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err("expected seconds between 0 and 3600".into()),
    }
}

impl Cli {
    /// Parses `args`; on `--help`/`--version` prints and exits 0, on a bad
    /// value prints one line and exits 2.
    pub fn parse_or_exit<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        match Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(e) => match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => e.exit(),
                _ => {
                    let rendered = e.render().to_string();
                    let line = rendered.lines().next().unwrap_or("error: invalid arguments");
                    eprintln!("{line} (see --help)");
                    std::process::exit(2);
                }
            },
        }
    }

    pub fn server_config(&self) -> ServerConfig {
        let workers = self
            .workers
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        ServerConfig {
            listen: self.listen,
            workers,
            limits: Limits {
                max_body: self.max_body_bytes,
            },
            shutdown_timeout: Duration::from_secs_f64(self.shutdown_timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.listen, "0.0.0.0:3000".parse().unwrap());
        assert_eq!((cli.sim_start, cli.sim_step), (50.0, 10.0));
        assert!(cli.server_config().workers >= 1);
    }

    #[test]
    fn flags() {
        let cli = Cli::try_parse_from(["x", "--listen", "[::1]:8080", "--workers", "3", "--sim-step", "2.5"]).unwrap();
        assert_eq!(cli.listen, "[::1]:8080".parse().unwrap());
        assert_eq!(cli.server_config().workers, 3);
        assert_eq!(cli.sim_step, 2.5);
    }

    #[test]
    fn bad_values() {
        for args in [
            &["x", "--workers", "0"][..],
            &["x", "--workers", "many"],
            &["x", "--listen", "nowhere"],
            &["x", "--sim-start", "inf"],
            &["x", "--shutdown-timeout", "-1"],
            &["x", "--bogus"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
