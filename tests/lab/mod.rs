//! The autoscaling lab: the whole HPA loop on one machine, real where it
//! can be and modelled where a cluster would be needed.
//!
//! Real: the app binary as pods (tests/lab/deployment.rs), Prometheus discovering
//! them from a file as they come and go (the ServiceMonitor's interval and
//! the operator's relabeling), the adapter rules' PromQL rendered from
//! deploy/prometheus-adapter-values.yaml for the HPA's pods, loadgen's staged
//! load through a Service (tests/lab/service.rs).
//! Modelled: the HPA controller (tests/e2e/hpa.rs, hpa_controller.rs, with
//! deploy/base/hpa.yaml's targets, bounds and behavior), the kubelet's probe
//! schedule and the ReplicaSet's choice of pods to delete.
//!
//! Run by examples/autoscale_lab.rs (scripts/autoscale-lab.sh) and, short,
//! by tests/autoscale_lab.rs.

pub mod chart;
pub mod deployment;
pub mod load;
pub mod metrics_api;
pub mod run;
pub mod service;
pub mod settings;
pub mod summary;
pub mod timeline;

use run::Outcome;
use settings::Settings;

/// The printed report: what ran, what was overridden, the figures.
pub fn report(o: &Outcome, settings: &Settings, summary: &summary::Summary) -> String {
    let targets: Vec<String> = o.targets.iter().map(|(m, v)| format!("{m} {v}")).collect();
    let route = settings.route.describe();
    let mut out = format!(
        "autoscaling lab: {route}\n\
         real:      app pods (processes), probes, Prometheus + file discovery, adapter PromQL, loadgen, Service\n\
         modelled:  the HPA controller, kubelet probe schedule, ReplicaSet pod choice\n",
    );
    if o.overrides.is_empty() {
        out += "lab overrides: none\n";
    }
    for line in &o.overrides {
        out += &format!("LAB OVERRIDE: {line}\n");
    }
    out += &format!(
        "settings:  scrape {}s, rate window {}s, HPA sync {}s, readiness period {}s, scale-down stabilization {}s, replicas {}..{}, targets per pod: {}\n",
        o.scrape,
        o.window,
        o.sync,
        o.readiness_period,
        o.scale_down_window,
        o.min,
        o.max,
        targets.join(", ")
    );
    out += &format!(
        "load:      {} x{} (loadgen: completed {}, errors {}, achieved {}/s)\n",
        settings.stages,
        settings.load_scale,
        o.loadgen["completed"],
        o.loadgen["errors"],
        o.loadgen["achieved_per_second"]
            .as_f64()
            .map_or("?".into(), |v| format!("{v:.1}"))
    );
    out + &summary.to_string()
}
