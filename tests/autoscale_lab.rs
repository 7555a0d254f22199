//! A short run of the autoscaling lab (tests/lab/): real app processes as
//! pods behind a Service, a real Prometheus discovering them from a file,
//! the adapter rules' queries, loadgen's staged load and the modelled HPA of
//! deploy/base/hpa.yaml. Loopback only.
//!
//! LAB OVERRIDES (for a bounded run): time x0.1 (scrape 1 s, rate window
//! 6 s, HPA sync 1.5 s, probes, preStop and stages all ten times faster;
//! figures below are cluster seconds), load x0.04 (qps target 20 per pod),
//! scale-down stabilization 60 s instead of 120 s.
//!
//! The step profile and what follows from it with the qps target (500 per
//! pod, scaled) and the idle temperature (35 °C against 80):
//!   1500/s → ceil(1500 / 500) = 3 replicas;
//!   6000/s → 12, clamped to max 10;
//!   1500/s → 3 again (the temperature asks for ceil(10 × 35 / 80) = 5 first);
//!   then no load → back to min 1 (temperature: ceil(2 × 35 / 80) = 1).
//! Each must be reached within the bound the chain of delays predicts, the
//! replicas never pass max, and no request is lost while pods are removed.
//!
//! Needs `prometheus` (skips loudly without it, fails in CI).
//! `cargo test --test autoscale_lab -- --nocapture` prints the summary;
//! the timeline and chart land in target/autoscale-lab/test.*.

mod common;
mod e2e;
mod lab;

use std::path::PathBuf;

use common::require_tool;
use lab::run::{run, Outcome};
use lab::settings::Settings;
use lab::summary::Summary;

const PROFILE: &str = "200s:1500,250s:6000,300s:1500";

/// Cluster seconds from a load change to the replicas it asks for, as the
/// chain of delays predicts: the rate window fills (window + 2 scrapes), then
/// per scaling step a sync, a scrape or two of the new pods and their
/// readiness period; scale-downs also wait out the stabilization window.
fn bound_up(o: &Outcome, steps: f64) -> f64 {
    o.window + 2.0 * o.scrape + steps * (o.sync + 2.0 * o.scrape + o.readiness_period)
}

fn bound_down(o: &Outcome, steps: f64) -> f64 {
    o.window + 2.0 * o.scrape + steps * (o.scale_down_window + 2.0 * o.sync + 2.0 * o.scrape)
}

/// The first time at or after `from` when `ready` equals `want` and
/// `desired` does too (and stays so until `until`).
fn reached(o: &Outcome, from: f64, until: f64, want: u32) -> Option<f64> {
    let rows: Vec<_> = o.timeline.rows.iter().filter(|r| r.t >= from && r.t <= until).collect();
    let last_off = rows.iter().rposition(|r| r.desired != want || r.ready != want);
    match last_off {
        None => rows.first().map(|r| r.t),
        Some(i) => rows.get(i + 1).map(|r| r.t),
    }
}

#[test]
fn autoscale_lab_short_run() {
    if !require_tool("prometheus") {
        return;
    }
    let mut settings = Settings::defaults(PathBuf::from(env!("CARGO_BIN_EXE_custom-metrics-app")), PROFILE.into());
    settings.time_scale = 0.1;
    settings.load_scale = 0.04;
    settings.scale_down_window = Some(60.0);
    settings.concurrency = 16;
    settings.max_tail = 600.0;
    settings.out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("autoscale-lab");
    settings.name = "test".into();
    let o = run(&settings);
    let summary = Summary::of(&o);
    let report = lab::report(&o, &settings, &summary);
    println!("{report}");
    lab::run::write(&o, &settings, &summary.to_string()).expect("write the timeline");
    println!("timeline: {}", settings.out_dir.display());
    let rows = &o.timeline.rows;
    let show = || o.timeline.csv();

    // Never past max, in desire or in pods.
    assert!(
        rows.iter()
            .all(|r| r.desired <= o.max && r.pods <= o.max && r.ready <= o.max),
        "{}",
        show()
    );
    assert_eq!(
        (o.min, o.max),
        (1, 10),
        "deploy/base/hpa.yaml's bounds, which the expectations assume"
    );

    // 1500/s → 3, within the first stage.
    let at = reached(&o, 0.0, 200.0, 3);
    assert!(
        at.is_some_and(|t| t <= bound_up(&o, 2.0)),
        "3 replicas by {} s: {at:?}\n{}",
        bound_up(&o, 2.0),
        show()
    );
    // 6000/s → 10 (12 clamped), within the second.
    let at = reached(&o, 200.0, 450.0, 10);
    let limit = 200.0 + bound_up(&o, 2.0);
    assert!(
        at.is_some_and(|t| t <= limit),
        "10 replicas by {limit} s: {at:?}\n{}",
        show()
    );
    // 1500/s again → 3 under load (two steps: 10 → 5 → 3), within the third.
    let at = reached(&o, 450.0, 750.0, 3);
    let limit = 450.0 + bound_down(&o, 2.0);
    assert!(
        at.is_some_and(|t| t <= limit),
        "3 replicas by {limit} s: {at:?}\n{}",
        show()
    );
    // No load → min 1 (3 → 2 → 1), and every pod gone cleanly.
    let end = rows.last().map_or(0.0, |r| r.t);
    let at = reached(&o, 750.0, end, 1);
    let limit = 750.0 + bound_down(&o, 2.0);
    assert!(
        at.is_some_and(|t| t <= limit),
        "1 replica by {limit} s: {at:?}\n{}",
        show()
    );

    // No request lost, during scale-in or ever; loadgen sent them all.
    assert_eq!(summary.scale_in_errors + summary.scale_in_failures, 0, "{}", show());
    assert_eq!(o.loadgen["errors"], 0, "{}", o.loadgen);
    assert_eq!(o.loadgen["completed"], o.loadgen["sent"], "{}", o.loadgen);
    assert_eq!(rows.last().map(|r| r.service_failures), Some(0));
    assert_eq!(o.exits.killed, 0, "every pod left on SIGTERM within its grace period");
}
