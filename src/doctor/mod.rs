//! `custom-metrics-app doctor`: checks the metrics pipeline in the order
//! data flows (app, Prometheus target, labels, rate window, the route's
//! queries, then the cluster side through `kubectl`), each with the evidence
//! it saw and one fix. Exit 0: nothing failed; 1: a check failed; 2: bad flags.

mod checks;
mod cluster;
mod get;
mod kubectl;
mod queries;
mod report;

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::loadgen::target::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Route {
    /// prometheus-adapter (deploy/prometheus-adapter-values.yaml).
    Adapter,
    /// KEDA's ScaledObject (deploy/overlays/keda/scaledobject.yaml).
    Keda,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// Find what breaks the metrics pipeline, in order, with the fix.
#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    /// Prometheus, http://host:port.
    #[arg(long, value_name = "URL", value_parser = Url::parse)]
    pub prometheus: Url,
    /// The app, http://host:port (checks its /metrics).
    #[arg(long, value_name = "URL", value_parser = Url::parse)]
    pub app: Option<Url>,
    /// The namespace the app runs in.
    #[arg(long, default_value = "default", value_name = "NS")]
    pub namespace: String,
    /// The autoscaling route to check.
    #[arg(long, value_enum, default_value_t = Route::Adapter)]
    pub route: Route,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The Prometheus job the app's target should have (the ServiceMonitor's Service name).
    #[arg(long, default_value = "custom-metrics-app", value_name = "JOB")]
    pub job: String,
    /// The deploy/ directory to read the adapter rules and the KEDA overlay from.
    #[arg(long, default_value = "deploy", value_name = "DIR")]
    pub deploy: PathBuf,
}

pub(crate) fn run(args: &DoctorArgs) -> i32 {
    let outcomes = checks::all(args);
    let out = match args.output {
        Output::Text => report::text(&outcomes),
        Output::Json => report::json(&outcomes),
    };
    print!("{out}");
    i32::from(outcomes.iter().any(|o| o.verdict == report::Verdict::Failed))
}
