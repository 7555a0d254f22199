//! Command line and environment: every flag has an environment variable, and
//! a bad value is one error line and exit code 2.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::ops::Bound::{Excluded, Included};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::app::{parse_delay, parse_ratio, parse_threads, AppOptions, DelayRange, ErrorRatio, LogFormat};
use crate::check::CheckArgs;
use crate::doctor::DoctorArgs;
use crate::grammar::{duration, in_range, number};
use crate::http::Limits;
use crate::loadgen::LoadgenArgs;
use crate::server::{ServerConfig, Timeouts};
use crate::temperature::{HwmonSelector, SamplerConfig, SourceChoice, TemperatureConfig, ThermalSelector};

/// A tiny, fast sample workload for Kubernetes custom-metrics autoscaling.
///
/// Serves `/` ("custom metrics"), `/cpuTempUp`, `/cpuTempDown`, `/metrics`
/// (Prometheus text format), `/healthz`, `/readyz`, and for experiments
/// `/status/{code}`, `/delay/{duration}`, `/work/{duration}`,
/// `POST /readyz/disable|enable` and `/version`.
/// `custom-metrics-app loadgen --help` describes the load generator,
/// `custom-metrics-app check --help` the self-test.
// Without a subcommand the flags configure the server, exactly as before the
// subcommand existed; server flags before `loadgen` are an error rather than
// silently ignored (`args_conflicts_with_subcommands`).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "custom-metrics-app",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    after_help = duration::SPELLING
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (IPv4 or [IPv6]:port).
    #[arg(long, env = "CMA_LISTEN", default_value_t = SERVER.listen, value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Worker threads, each with its own runtime and listener [default: available cores].
    #[arg(long, env = "CMA_WORKERS", value_name = "N")]
    pub workers: Option<NonZeroUsize>,

    /// Starting value of the simulated temperature, in °C.
    #[arg(long, env = "CMA_SIM_START", default_value_t = temperature().sim_start, value_name = "CELSIUS", value_parser = finite)]
    pub sim_start: f64,

    /// How far /cpuTempUp and /cpuTempDown move the simulated temperature, in °C.
    #[arg(long, env = "CMA_SIM_STEP", default_value_t = temperature().sim_step, value_name = "CELSIUS", value_parser = finite)]
    pub sim_step: f64,

    /// Largest request body read and discarded; larger ones get 413.
    #[arg(long, env = "CMA_MAX_BODY_BYTES", default_value_t = SERVER.limits.max_body, value_name = "BYTES")]
    pub max_body_bytes: u64,

    /// Always answer /metrics in the 0.0.4 text format, even to scrapers that prefer OpenMetrics.
    #[arg(long, env = "CMA_NO_OPENMETRICS")]
    pub no_openmetrics: bool,

    /// Time a client has to send a whole request head (from connecting, or from the head's first bytes); then 408
    /// and close.
    #[arg(long, env = "CMA_HEADER_TIMEOUT", default_value_t = Shown(SERVER.timeouts.header), value_name = "DURATION", value_parser = timeout)]
    pub header_timeout: Shown,

    /// Accept connections as soon as they are made, not once their request has arrived (turns off Linux's
    /// TCP_DEFER_ACCEPT, which lets a connection-per-request client be answered without a readiness wait).
    #[arg(long, env = "CMA_NO_DEFER_ACCEPT")]
    pub no_defer_accept: bool,

    /// Time a keep-alive connection may stay idle between requests.
    #[arg(long, env = "CMA_IDLE_TIMEOUT", default_value_t = Shown(SERVER.timeouts.idle), value_name = "DURATION", value_parser = timeout)]
    pub idle_timeout: Shown,

    /// Time a response may wait for a client that does not read it.
    #[arg(long, env = "CMA_WRITE_TIMEOUT", default_value_t = Shown(SERVER.timeouts.write), value_name = "DURATION", value_parser = timeout)]
    pub write_timeout: Shown,

    /// Open connections beyond which the server stops accepting new ones.
    #[arg(long, env = "CMA_MAX_CONNECTIONS", default_value_t = MAX_CONNECTIONS, value_name = "N")]
    pub max_connections: NonZeroUsize,

    /// Time a shutdown (SIGTERM/SIGINT) waits for requests in progress; at most 1h.
    #[arg(long, env = "CMA_SHUTDOWN_TIMEOUT", default_value_t = Shown(SERVER.shutdown_timeout), value_name = "DURATION", value_parser = shutdown_timeout)]
    pub shutdown_timeout: Shown,

    /// Where cpu_temperature_celsius comes from: simulated, thermal, hwmon, or auto (thermal if a zone is readable,
    /// else hwmon if a sensor is, else simulated).
    #[arg(long, env = "CMA_TEMPERATURE_SOURCE", default_value_t = temperature().source, value_name = "SOURCE", value_parser = SourceChoice::from_str)]
    pub temperature_source: SourceChoice,

    /// Directory holding thermal_zoneN/ (a host's /sys/class/thermal mounted elsewhere, or a fake tree).
    #[arg(long, env = "CMA_THERMAL_ROOT", default_value_os_t = temperature().sampler.thermal_root, value_name = "DIR")]
    pub thermal_root: PathBuf,

    /// Directory holding hwmonN/.
    #[arg(long, env = "CMA_HWMON_ROOT", default_value_os_t = temperature().sampler.hwmon_root, value_name = "DIR")]
    pub hwmon_root: PathBuf,

    /// sysfs' devices/ directory: Intel throttle counters (system/cpu/cpuN/thermal_throttle) and the Raspberry Pi
    /// firmware's get_throttled (under platform/).
    #[arg(long, env = "CMA_DEVICES_ROOT", default_value_os_t = temperature().sampler.devices_root, value_name = "DIR")]
    pub devices_root: PathBuf,

    /// Zones behind cpu_temperature_celsius with the thermal source (the hottest readable one counts): cpu (zones
    /// whose type names a CPU, else all), max (all), a zone (thermal_zone2) or a type (x86_pkg_temp).
    #[arg(long, env = "CMA_THERMAL_ZONE", default_value_t = temperature().thermal_zone, value_name = "SELECTOR", value_parser = ThermalSelector::from_str)]
    pub thermal_zone: ThermalSelector,

    /// Sensors behind cpu_temperature_celsius with the hwmon source (the hottest readable one counts): cpu (sensors
    /// of CPU chips such as coretemp or k10temp, else all), max (all), or CHIP/SENSOR (coretemp/Package id 0,
    /// coretemp/temp1).
    #[arg(long, env = "CMA_HWMON_SENSOR", default_value_t = temperature().hwmon_sensor, value_name = "SELECTOR", value_parser = HwmonSelector::from_str)]
    pub hwmon_sensor: HwmonSelector,

    /// Time between two sensor sampling passes, from 100ms to 1h; a read not done within half of it counts as
    /// timed out.
    #[arg(long, env = "CMA_SENSOR_INTERVAL", default_value_t = Shown(temperature().sampler.interval), value_name = "DURATION", value_parser = sensor_interval)]
    pub sensor_interval: Shown,

    /// Serve the experiment routes (/status/{code}, /delay/{duration}, /work/{duration}, POST /readyz/disable|enable)
    /// and take --error-ratio, --delay and --work-threads; off answers those paths as unknown ones (`/`), for nodes
    /// that only serve and measure.
    #[arg(long, env = "CMA_EXPERIMENTS", value_enum, default_value_t = Switch::On, value_name = "on|off")]
    pub experiments: Switch,

    /// Share of `/` requests answered 500, from 0 to 1, spread evenly (0.1: every tenth request).
    #[arg(long, env = "CMA_ERROR_RATIO", default_value_t = 0.0, value_name = "RATIO", value_parser = parse_ratio)]
    pub error_ratio: f64,

    /// Latency added to `/`: a duration (250ms) or a range to pick from uniformly (100ms..2s); at most 10s.
    #[arg(long, env = "CMA_DELAY", value_name = "DURATION|MIN..MAX", value_parser = parse_delay)]
    pub delay: Option<DelayRange>,

    /// Threads /work/{duration} burns CPU on: that many jobs at once, more are answered 503
    /// [default: available cores].
    #[arg(long, env = "CMA_WORK_THREADS", value_name = "N", value_parser = parse_threads)]
    pub work_threads: Option<usize>,

    /// Log one line per request on stdout (time, method, path, status, latency).
    #[arg(long, env = "CMA_LOG_REQUESTS")]
    pub log_requests: bool,

    /// Format of the request log lines.
    #[arg(long, env = "CMA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
}

/// Clap's message (its first paragraph: the error and, for some errors, the
/// missing flags or the possible values on the lines below) as one line.
fn one_line(rendered: &str) -> String {
    let words: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if words.is_empty() {
        "error: invalid arguments".into()
    } else {
        words.join(" ")
    }
}

/// A flag that is `on` or `off`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

/// The flags that only mean something with the experiment routes on.
const EXPERIMENT_FLAGS: [(&str, &str); 3] = [
    ("error_ratio", "--error-ratio (CMA_ERROR_RATIO)"),
    ("delay", "--delay (CMA_DELAY)"),
    ("work_threads", "--work-threads (CMA_WORK_THREADS)"),
];

/// With `--experiments off`, a flag of [`EXPERIMENT_FLAGS`] given on the
/// command line or in the environment is an error, not silently ignored: the
/// operator asked for two things that contradict each other.
fn check_experiment_flags(cli: &Cli, matches: &ArgMatches) -> Result<(), String> {
    if cli.command.is_some() || cli.experiments.is_on() {
        return Ok(());
    }
    let given: Vec<&str> = EXPERIMENT_FLAGS
        .iter()
        .filter(|(id, _)| {
            matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        })
        .map(|(_, flag)| *flag)
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(format!(
        "error: {} given with --experiments off (CMA_EXPERIMENTS): drop it, or turn the experiments on",
        given.join(", ")
    ))
}

/// What the binary does instead of serving.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Send requests to a URL at a fixed rate for a fixed time, then print a summary.
    #[command(after_help = duration::SPELLING)]
    Loadgen(LoadgenArgs),
    /// Check that a running app answers `/` and counts it on `/metrics` (the chart's `helm test`).
    #[command(after_help = duration::SPELLING)]
    Check(CheckArgs),
    /// Find what breaks the metrics pipeline (app, Prometheus, adapter or KEDA), in order, with the fix.
    Doctor(DoctorArgs),
}

/// The server's defaults, which the flags show and fall back to.
const SERVER: ServerConfig = ServerConfig::DEFAULT;

const MAX_CONNECTIONS: NonZeroUsize = NonZeroUsize::new(SERVER.max_connections).expect("a positive default");

/// The temperature source's defaults, likewise.
fn temperature() -> TemperatureConfig {
    TemperatureConfig::default()
}

/// A duration flag's value, which `--help` shows in the grammar's short
/// form (`[default: 10s]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown(pub Duration);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&duration::format(self.0))
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn finite(s: &str) -> Result<f64, String> {
    in_range(number(s), f64::MIN..=f64::MAX, "expected a finite number")
}

fn shutdown_timeout(s: &str) -> Result<Shown, String> {
    in_range(
        duration::parse(s),
        ..=HOUR,
        "expected a duration from 0 to 1h, like 20s, or plain seconds",
    )
    .map(Shown)
}

fn timeout(s: &str) -> Result<Shown, String> {
    in_range(
        duration::parse(s),
        (Excluded(Duration::ZERO), Included(DAY)),
        "expected a duration above 0 and at most 24h, like 10s, 500ms or plain seconds",
    )
    .map(Shown)
}

fn sensor_interval(s: &str) -> Result<Shown, String> {
    // Below 0.1 s most hwmon drivers only hand back their cached value
    // (coretemp refreshes once a second), and the read deadline (half the
    // interval) would be shorter than a slow ACPI or I2C read.
    in_range(
        duration::parse(s),
        Duration::from_millis(100)..=HOUR,
        "expected a duration from 100ms to 1h, like 1s, 250ms or plain seconds",
    )
    .map(Shown)
}

impl Cli {
    /// Parses `args`; on `--help`/`--version` prints and exits 0, on a bad
    /// value prints one line and exits 2.
    pub fn parse_or_exit<I, T>(args: I) -> Cli
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let parsed = Cli::command()
            .try_get_matches_from(&args)
            .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
        match parsed {
            Ok((cli, matches)) => match check_experiment_flags(&cli, &matches) {
                Ok(()) => cli,
                Err(message) => {
                    eprintln!("{message} (see --help)");
                    std::process::exit(2);
                }
            },
            Err(e) => match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => e.exit(),
                _ => {
                    let help = match args.get(1).and_then(|a| a.to_str()) {
                        Some("loadgen") => "custom-metrics-app loadgen --help",
                        Some("check") => "custom-metrics-app check --help",
                        Some("doctor") => "custom-metrics-app doctor --help",
                        _ => "--help",
                    };
                    eprintln!("{} (see {help})", one_line(&e.render().to_string()));
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
            timeouts: Timeouts {
                header: self.header_timeout.0,
                idle: self.idle_timeout.0,
                write: self.write_timeout.0,
            },
            max_connections: self.max_connections.get(),
            shutdown_timeout: self.shutdown_timeout.0,
            defer_accept: !self.no_defer_accept,
        }
    }

    pub fn app_options(&self) -> AppOptions {
        let defaults = AppOptions::default();
        AppOptions {
            error_ratio: ErrorRatio::new(self.error_ratio),
            delay: self.delay,
            work_threads: self.work_threads.unwrap_or(defaults.work_threads),
            request_log: self.log_requests.then_some(self.log_format),
        }
    }

    pub fn temperature_config(&self) -> TemperatureConfig {
        TemperatureConfig {
            source: self.temperature_source,
            sim_start: self.sim_start,
            sim_step: self.sim_step,
            thermal_zone: self.thermal_zone.clone(),
            hwmon_sensor: self.hwmon_sensor.clone(),
            sampler: SamplerConfig {
                thermal_root: self.thermal_root.clone(),
                hwmon_root: self.hwmon_root.clone(),
                devices_root: self.devices_root.clone(),
                ..SamplerConfig::every(self.sensor_interval.0)
            },
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
        let t = cli.temperature_config();
        assert_eq!(t.source, SourceChoice::Auto);
        assert_eq!(t.sampler.thermal_root, PathBuf::from("/sys/class/thermal"));
        assert_eq!(t.sampler.hwmon_root, PathBuf::from("/sys/class/hwmon"));
        assert_eq!(
            (t.thermal_zone, t.hwmon_sensor),
            (ThermalSelector::Cpu, HwmonSelector::Cpu)
        );
        assert_eq!(
            (t.sampler.interval, t.sampler.read_timeout),
            (Duration::from_secs(1), Duration::from_millis(500))
        );
    }

    #[test]
    fn defaults_come_from_the_configs_they_fill() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let (s, d) = (cli.server_config(), ServerConfig::DEFAULT);
        assert_eq!((s.listen, s.limits.max_body), (d.listen, d.limits.max_body));
        assert_eq!(
            (s.timeouts.header, s.timeouts.idle, s.timeouts.write),
            (d.timeouts.header, d.timeouts.idle, d.timeouts.write)
        );
        assert_eq!(
            (s.max_connections, s.shutdown_timeout, s.defer_accept),
            (d.max_connections, d.shutdown_timeout, d.defer_accept)
        );
        let (t, d) = (cli.temperature_config(), TemperatureConfig::default());
        assert_eq!((t.source, t.sim_start, t.sim_step), (d.source, d.sim_start, d.sim_step));
        assert_eq!((t.thermal_zone, t.hwmon_sensor), (d.thermal_zone, d.hwmon_sensor));
        assert_eq!(t.sampler, d.sampler);
    }

    #[test]
    fn experiment_flags_need_the_experiments_on() {
        let check = |args: &[&str]| {
            let matches = Cli::command().try_get_matches_from(args).unwrap();
            check_experiment_flags(&Cli::from_arg_matches(&matches).unwrap(), &matches)
        };
        assert_eq!(check(&["x"]), Ok(()));
        assert_eq!(check(&["x", "--experiments=off"]), Ok(()));
        assert_eq!(
            check(&["x", "--error-ratio=0.5", "--delay=1ms", "--work-threads=2"]),
            Ok(())
        );
        let refused = check(&["x", "--experiments", "off", "--error-ratio", "0", "--work-threads=2"]).unwrap_err();
        assert!(
            refused.contains("--error-ratio") && refused.contains("--work-threads") && !refused.contains("--delay"),
            "{refused}"
        );
        assert!(check(&["x", "--experiments=off", "--delay=1ms"]).is_err());
        assert!(Cli::try_parse_from(["x", "--experiments=maybe"]).is_err());
    }

    #[test]
    fn server_flags() {
        let s = Cli::try_parse_from([
            "x",
            "--max-body-bytes=10",
            "--header-timeout=0.5",
            "--idle-timeout=2",
            "--write-timeout=3",
            "--max-connections=7",
            "--shutdown-timeout=0",
            "--no-defer-accept",
        ])
        .unwrap()
        .server_config();
        assert_eq!(s.limits.max_body, 10);
        assert_eq!(
            (s.timeouts.header, s.timeouts.idle, s.timeouts.write),
            (
                Duration::from_millis(500),
                Duration::from_secs(2),
                Duration::from_secs(3)
            )
        );
        assert_eq!(
            (s.max_connections, s.shutdown_timeout, s.defer_accept),
            (7, Duration::ZERO, false)
        );
    }

    #[test]
    fn duration_flags_take_the_one_grammar() {
        for bad in ["NaN", "inf", "-inf"] {
            assert!(finite(bad).is_err(), "{bad}");
        }
        for bad in ["NaN", "inf", "-1", "1e3", "10 s", "soon"] {
            assert!(shutdown_timeout(bad).is_err() && timeout(bad).is_err(), "{bad}");
        }
        assert_eq!(
            timeout("0"),
            Err("expected a duration above 0 and at most 24h, like 10s, 500ms or plain seconds".to_owned())
        );
        let secs = |s| Shown(Duration::from_secs(s));
        assert_eq!(timeout("86400"), Ok(secs(86_400)));
        assert_eq!(timeout("24h"), Ok(secs(86_400)));
        assert!(timeout("24h1ns").is_err());
        assert_eq!(timeout(" 1m30s "), Ok(secs(90)));
        assert_eq!(shutdown_timeout("1h"), Ok(secs(3600)));
        assert_eq!(shutdown_timeout("0"), Ok(secs(0)));
        assert!(shutdown_timeout("61m").is_err());
        assert_eq!(sensor_interval("100ms"), Ok(Shown(Duration::from_millis(100))));
        assert!(sensor_interval("99ms").is_err());
        // The defaults are shown as they are written.
        let help = Cli::command().render_long_help().to_string();
        for shown in ["[default: 10s]", "[default: 1m]", "[default: 20s]", "[default: 1s]"] {
            assert!(help.contains(shown), "{shown} in {help}");
        }
    }

    #[test]
    fn sensor_flags() {
        let cli = Cli::try_parse_from([
            "x",
            "--temperature-source",
            "hwmon",
            "--thermal-root",
            "/host/sys/class/thermal",
            "--hwmon-root",
            "/host/sys/class/hwmon",
            "--devices-root",
            "/host/sys/devices",
            "--thermal-zone",
            "x86_pkg_temp",
            "--hwmon-sensor",
            "coretemp/Package id 0",
            "--sensor-interval",
            "0.25",
        ])
        .unwrap();
        let t = cli.temperature_config();
        assert_eq!(t.source, SourceChoice::Hwmon);
        assert_eq!(t.sampler.thermal_root, PathBuf::from("/host/sys/class/thermal"));
        assert_eq!(t.sampler.hwmon_root, PathBuf::from("/host/sys/class/hwmon"));
        assert_eq!(t.sampler.devices_root, PathBuf::from("/host/sys/devices"));
        assert_eq!(t.thermal_zone, ThermalSelector::Type("x86_pkg_temp".into()));
        assert_eq!(
            t.hwmon_sensor,
            HwmonSelector::Sensor {
                chip: "coretemp".into(),
                sensor: "Package id 0".into()
            }
        );
        assert_eq!(
            (t.sampler.interval, t.sampler.read_timeout),
            (Duration::from_millis(250), Duration::from_millis(125))
        );
    }

    #[test]
    fn flags() {
        let cli = Cli::try_parse_from(["x", "--listen", "[::1]:8080", "--workers", "3", "--sim-step", "2.5"]).unwrap();
        assert_eq!(cli.listen, "[::1]:8080".parse().unwrap());
        assert_eq!(cli.server_config().workers, 3);
        assert_eq!(cli.sim_step, 2.5);
    }

    #[test]
    fn experiment_flags() {
        let off = Cli::try_parse_from(["x"]).unwrap().app_options();
        assert!(off.error_ratio.is_zero() && off.delay.is_none() && off.request_log.is_none());
        let cli = Cli::try_parse_from([
            "x",
            "--error-ratio",
            "0.1",
            "--delay",
            "5ms..20ms",
            "--work-threads",
            "3",
            "--log-requests",
            "--log-format",
            "json",
        ])
        .unwrap();
        let o = cli.app_options();
        assert_eq!(o.error_ratio, ErrorRatio::new(0.1));
        assert_eq!(
            o.delay,
            Some(DelayRange {
                min: Duration::from_millis(5),
                max: Duration::from_millis(20)
            })
        );
        assert_eq!((o.work_threads, o.request_log), (3, Some(LogFormat::Json)));
    }

    #[test]
    fn errors_fit_on_one_line() {
        assert_eq!(
            one_line(
                "error: the following required arguments were not provided:\n  --url <URL>\n  --rate <PER_SECOND>\n\n\
                 Usage: custom-metrics-app loadgen --url <URL>\n\nFor more information, try '--help'.\n"
            ),
            "error: the following required arguments were not provided: --url <URL> --rate <PER_SECOND>"
        );
        assert_eq!(
            one_line("error: invalid value 'x' for '--workers <N>': invalid digit\n\nFor more information\n"),
            "error: invalid value 'x' for '--workers <N>': invalid digit"
        );
        assert_eq!(one_line(""), "error: invalid arguments");
    }

    #[test]
    fn loadgen_subcommand() {
        let cli = Cli::try_parse_from([
            "x",
            "loadgen",
            "--url=http://127.0.0.1:3000/",
            "--rate=200",
            "--duration=2s",
        ])
        .unwrap();
        let Some(Command::Loadgen(args)) = cli.command else {
            panic!("no loadgen subcommand: {cli:?}");
        };
        assert_eq!((args.rate, args.duration), (Some(200.0), Some(Duration::from_secs(2))));
        // Server flags do not mix with the subcommand.
        assert!(Cli::try_parse_from([
            "x",
            "--workers",
            "2",
            "loadgen",
            "--url=http://h/",
            "--rate=1",
            "--duration=1"
        ])
        .is_err());
        assert!(Cli::try_parse_from(["x", "loadgen", "--workers", "2"]).is_err());
        assert!(Cli::try_parse_from(["x"]).unwrap().command.is_none());
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
            &["x", "--temperature-source", "sensors"],
            &["x", "--thermal-zone", ""],
            &["x", "--hwmon-sensor", "coretemp"],
            &["x", "--sensor-interval", "0"],
            &["x", "--sensor-interval", "0.05"],
            &["x", "--sensor-interval", "NaN"],
            &["x", "--error-ratio", "1.1"],
            &["x", "--error-ratio", "-0.5"],
            &["x", "--delay", "11s"],
            &["x", "--delay", "2s..1s"],
            &["x", "--delay", "soon"],
            &["x", "--work-threads", "0"],
            &["x", "--log-format", "xml"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
