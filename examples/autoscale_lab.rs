//! The autoscaling lab as a command: `scripts/autoscale-lab.sh` builds the
//! app and runs this. The lab itself lives beside the end-to-end tests it
//! shares its parts with (tests/lab/, tests/e2e/, tests/common/), included
//! here by path; the server binary carries none of it. The app binary is
//! the one beside target/<profile>/examples/, unless `--app-bin` says.
//!
//!     autoscale_lab [--route adapter|keda] [--app-bin PATH] [--out DIR] [--name NAME]
//!         [--stages STAGES] [--load-scale F] [--time-scale F]
//!         [--scrape-interval S] [--window S] [--scale-down-window S]
//!         [--concurrency N] [--max-tail S]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/e2e/mod.rs"]
mod e2e;
#[allow(dead_code)]
#[path = "../tests/lab/mod.rs"]
mod lab;

use std::path::PathBuf;
use std::process::ExitCode;

use lab::settings::{Route, Settings};

const USAGE: &str =
    "usage: autoscale_lab [--route adapter|keda] [--app-bin PATH] [--out DIR] [--name NAME] [--stages STAGES] \
[--load-scale F] [--time-scale F] [--scrape-interval S] [--window S] [--scale-down-window S] \
[--concurrency N] [--max-tail S]";

fn parse(args: &[String]) -> Result<Settings, String> {
    let mut s = Settings::defaults(common::app_binary(), e2e::manifests::stages_job_profile());
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag.as_str(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("{name}: missing value\n{USAGE}"))?,
        };
        let number = |what: &str| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("{what}: {value:?} is not a positive number"))
        };
        let seconds = |what: &str| -> Result<f64, String> {
            custom_metrics_app::internals::grammar::duration::parse(&value)
                .map(|d| d.as_secs_f64())
                .filter(|s| *s > 0.0)
                .ok_or_else(|| format!("{what}: {value:?} is not a duration"))
        };
        match name {
            "--app-bin" => s.app_bin = PathBuf::from(&value),
            "--route" => {
                s.route = match value.as_str() {
                    "adapter" => Route::Adapter,
                    "keda" => Route::Keda,
                    other => return Err(format!("--route: {other:?}: adapter or keda")),
                }
            }
            "--out" => s.out_dir = PathBuf::from(&value),
            "--name" => s.name = value.clone(),
            "--stages" => {
                lab::load::Profile::parse(&value).map_err(|e| format!("--stages: {e}"))?;
                s.stages = value.clone();
            }
            "--load-scale" => s.load_scale = number(name)?,
            "--time-scale" => s.time_scale = number(name)?,
            "--scrape-interval" => s.scrape_interval = Some(seconds(name)?),
            "--window" => s.window = Some(seconds(name)?),
            "--scale-down-window" => {
                s.scale_down_window = Some(
                    custom_metrics_app::internals::grammar::duration::parse(&value)
                        .ok_or_else(|| format!("{name}: {value:?} is not a duration"))?
                        .as_secs_f64(),
                )
            }
            "--concurrency" => s.concurrency = number(name)? as u32,
            "--max-tail" => s.max_tail = seconds(name)?,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    if !s.app_bin.is_file() {
        return Err(format!(
            "{}: no app binary (build it, or give --app-bin)",
            s.app_bin.display()
        ));
    }
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let settings = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("autoscale_lab: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = lab::run::run(&settings);
    let summary = lab::summary::Summary::of(&outcome);
    println!("{}", lab::report(&outcome, &settings, &summary));
    if let Err(e) = lab::run::write(&outcome, &settings, &summary.to_string()) {
        eprintln!("autoscale_lab: writing {}: {e}", settings.out_dir.display());
        return ExitCode::FAILURE;
    }
    let base = settings.out_dir.join(&settings.name);
    println!("timeline: {0}.json, {0}.csv; chart: {0}.svg", base.display());
    ExitCode::SUCCESS
}
