//! The `loadgen` subcommand's flags, each with a `CMA_LOADGEN_*`
//! environment variable; values out of bounds are rejected while parsing
//! (one error line, exit 2, like the server's flags).

use std::ops::Bound::{Excluded, Included};
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::stages::{parse_stage_plan, Stage, StagePlan, MAX_DURATION, MAX_RATE};
use super::target::Url;
use crate::grammar::{duration, in_range, number};

/// Most connections (each a task and a socket).
pub(crate) const MAX_CONCURRENCY: usize = 10_000;
/// Longest accepted `--timeout` for one request.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// Sends requests to one URL at a fixed rate for a fixed time (or in stages: ramp up, hold, stop), then prints a
/// summary.
///
/// Open loop: request i is sent at start + i/rate whether or not earlier ones have been answered, so a slow
/// server shows as latency (measured from the due time) rather than as a lower rate. `--rate 0.2` is one
/// request every 5 s, e.g. `--url http://host:3000/cpuTempUp --rate 0.2 --duration 8m`. Exit status: 0 when the
/// run finished and at least one request was answered (any status), 1 when none was (the target was unreachable
/// throughout, or its name did not resolve), 2 for bad flags.
#[derive(Args, Debug, Clone)]
pub struct LoadgenArgs {
    /// Target, http://host[:port]/path (host names are resolved once, at start).
    #[arg(long, env = "CMA_LOADGEN_URL", value_name = "URL", value_parser = Url::parse)]
    pub url: Url,

    /// Requests per second, fractional allowed (0.2 = one every 5 s); at most 1000000.
    #[arg(long, env = "CMA_LOADGEN_RATE", value_name = "PER_SECOND", value_parser = rate,
          required_unless_present = "stages", requires = "duration")]
    pub rate: Option<f64>,

    /// How long to send: 90s, 5m, 1h30m, 250ms, or plain seconds; at most 24h.
    #[arg(long, env = "CMA_LOADGEN_DURATION", value_name = "DURATION", value_parser = run_duration,
          required_unless_present = "stages", requires = "rate")]
    pub duration: Option<Duration>,

    /// Instead of --rate and --duration, stages one after the other (k6's ramping arrival rate):
    /// DURATION:RATE holds a rate, DURATION:FROM-TO moves it linearly; e.g. 30s:0-6000,2m:6000,1m:6000-0 ramps up,
    /// holds and stops. At most 100 stages and 24h.
    #[arg(long, env = "CMA_LOADGEN_STAGES", value_name = "STAGES", value_parser = parse_stage_plan,
          conflicts_with_all = ["rate", "duration"])]
    pub stages: Option<StagePlan>,

    /// Summary format on stdout: text (one `key: value` per line) or json.
    #[arg(long, env = "CMA_LOADGEN_OUTPUT", value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    pub output: Output,

    /// close: a new connection per request with `Connection: close` (like wget in a loop, so a Service spreads
    /// the requests over all pods); keep-alive: each connection is reused; once: a new connection per request
    /// that the client closes after the response, without asking the server to (curl or GNU wget in a loop).
    #[arg(long, env = "CMA_LOADGEN_CONNECTION", value_enum, default_value_t = ConnectionMode::KeepAlive, value_name = "MODE")]
    pub connection: ConnectionMode,

    /// Connections (requests in flight) at most; a request falling due while all are busy is sent late.
    #[arg(long, env = "CMA_LOADGEN_CONCURRENCY", default_value_t = 16, value_name = "N", value_parser = concurrency)]
    pub concurrency: usize,

    /// Request method (POST sends an empty body).
    #[arg(long, env = "CMA_LOADGEN_METHOD", value_enum, ignore_case = true, default_value_t = Method::Get, value_name = "METHOD")]
    pub method: Method,

    /// Time allowed for one request, connecting included: 10s, 500ms, or seconds; at most 300s.
    #[arg(long, env = "CMA_LOADGEN_TIMEOUT", default_value = "10s", value_name = "DURATION", value_parser = timeout)]
    pub timeout: Duration,

    /// Seconds between two progress lines on stderr (0: none).
    #[arg(long, env = "CMA_LOADGEN_PROGRESS", default_value = "5s", value_name = "DURATION", value_parser = progress)]
    pub progress: Duration,
}

impl LoadgenArgs {
    /// The run's stages: `--stages`, or the one stage `--rate` for `--duration`.
    pub fn stages(&self) -> Vec<Stage> {
        match (&self.stages, self.rate, self.duration) {
            (Some(plan), _, _) => plan.0.clone(),
            (None, Some(rate), Some(duration)) => vec![Stage {
                duration,
                from: rate,
                to: rate,
            }],
            // clap requires one or the other.
            _ => Vec::new(),
        }
    }
}

/// How the summary is written.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// How connections are used.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionMode {
    /// One connection per request, `Connection: close`.
    Close,
    /// Persistent connections, reused request after request.
    KeepAlive,
    /// One connection per request without `Connection: close`; the client
    /// closes after the response (curl and GNU wget in a loop).
    Once,
}

impl ConnectionMode {
    pub fn name(self) -> &'static str {
        match self {
            ConnectionMode::Close => "close",
            ConnectionMode::KeepAlive => "keep-alive",
            ConnectionMode::Once => "once",
        }
    }
}

/// The methods the app's routes take (POST for /cpuTempUp and /cpuTempDown).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    #[value(name = "GET")]
    Get,
    #[value(name = "POST")]
    Post,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

fn rate(s: &str) -> Result<f64, String> {
    in_range(
        number(s),
        (Excluded(0.0), Included(MAX_RATE)),
        "expected requests per second above 0 and at most 1000000",
    )
}

fn run_duration(s: &str) -> Result<Duration, String> {
    in_range(
        duration::parse(s),
        (Excluded(Duration::ZERO), Included(MAX_DURATION)),
        "expected a duration above 0 and at most 24h, like 90s, 5m, 1h or plain seconds",
    )
}

fn concurrency(s: &str) -> Result<usize, String> {
    in_range(
        number(s),
        1..=MAX_CONCURRENCY,
        "expected a number of connections from 1 to 10000",
    )
}

fn timeout(s: &str) -> Result<Duration, String> {
    in_range(
        duration::parse(s),
        (Excluded(Duration::ZERO), Included(MAX_TIMEOUT)),
        "expected a duration above 0 and at most 300s, like 10s or 500ms",
    )
}

fn progress(s: &str) -> Result<Duration, String> {
    in_range(
        duration::parse(s),
        ..=MAX_DURATION,
        "expected a duration (0 for no progress lines), like 5s",
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The subcommand's flags on their own, as `loadgen` parses them.
    #[derive(Parser, Debug)]
    struct Cmd {
        #[command(flatten)]
        args: LoadgenArgs,
    }

    fn parse(args: &[&str]) -> Result<LoadgenArgs, clap::Error> {
        Cmd::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn the_jobs_flags() {
        let a = parse(&[
            "--url=http://custom-metrics-app:3000/",
            "--rate=6000",
            "--duration=5m",
            "--connection=close",
            "--concurrency=64",
        ])
        .unwrap();
        assert_eq!(a.url.host, "custom-metrics-app");
        assert_eq!((a.rate, a.duration), (Some(6000.0), Some(Duration::from_secs(300))));
        assert_eq!((a.connection, a.concurrency), (ConnectionMode::Close, 64));
        let t = parse(&[
            "--url=http://custom-metrics-app:3000/cpuTempUp",
            "--rate=0.2",
            "--duration=8m",
            "--connection=close",
            "--concurrency=1",
        ])
        .unwrap();
        assert_eq!((t.url.path.as_str(), t.rate), ("/cpuTempUp", Some(0.2)));
    }

    #[test]
    fn defaults() {
        let a = parse(&["--url", "http://127.0.0.1:3000", "--rate", "10", "--duration", "90"]).unwrap();
        assert_eq!(a.duration, Some(Duration::from_secs(90)));
        assert_eq!(a.output, Output::Text);
        assert_eq!(a.stages().len(), 1);
        assert_eq!(a.connection, ConnectionMode::KeepAlive);
        assert_eq!((a.concurrency, a.method), (16, Method::Get));
        assert_eq!(
            (a.timeout, a.progress),
            (Duration::from_secs(10), Duration::from_secs(5))
        );
    }

    #[test]
    fn method_ignores_case_and_timeouts_take_units() {
        let a = parse(&[
            "--url=http://h:1/cpuTempUp",
            "--rate=1",
            "--duration=1s",
            "--method=post",
            "--timeout=250ms",
            "--progress=0",
        ])
        .unwrap();
        assert_eq!(a.method, Method::Post);
        assert_eq!((a.timeout, a.progress), (Duration::from_millis(250), Duration::ZERO));
    }

    #[test]
    fn stages_instead_of_rate_and_duration() {
        let a = parse(&[
            "--url=http://h:1/",
            "--stages=30s:0-6000,2m:6000,1m:6000-0",
            "--output=json",
        ])
        .unwrap();
        assert_eq!(a.stages().len(), 3);
        assert_eq!(a.output, Output::Json);
        for bad in [
            &["--url=http://h:1/", "--stages=30s:0-6000", "--rate=5"][..],
            &["--url=http://h:1/", "--stages=30s:0-6000", "--duration=5s"],
            &["--url=http://h:1/", "--stages=30s"],
            &["--url=http://h:1/", "--rate=5"],
            &["--url=http://h:1/", "--duration=5s"],
            &["--url=http://h:1/", "--stages=1s:1", "--output=xml"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bounds() {
        let base = ["--url=http://h:1/", "--rate=1", "--duration=1s"];
        for bad in [
            "--rate=0",
            "--rate=-1",
            "--rate=1000001",
            "--rate=NaN",
            "--rate=inf",
            "--rate=fast",
            "--duration=0",
            "--duration=24h1s",
            "--duration=25h",
            "--duration=5x",
            "--concurrency=0",
            "--concurrency=10001",
            "--connection=pipelined",
            "--method=DELETE",
            "--timeout=0",
            "--timeout=301",
            "--progress=-1s",
            "--url=https://h/",
            "--url=h:1",
        ] {
            let mut args = base.to_vec();
            args.push(bad);
            assert!(parse(&args).is_err(), "{bad}");
        }
        let max = [
            "--url=http://h:1/",
            "--rate=1000000",
            "--duration=24h",
            "--concurrency=10000",
            "--timeout=300",
        ];
        assert!(parse(&max).is_ok());
        for missing in 0..3 {
            let mut args = base.to_vec();
            args.remove(missing);
            // Without --rate (or --duration) the other one is left alone: an error too.
            assert!(parse(&args).is_err(), "without {}", base[missing]);
        }
    }
}
