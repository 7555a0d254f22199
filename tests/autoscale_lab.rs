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
//!   1400/s → ceil(1400 / 500) = 3 replicas (2.8: clear of a ceil boundary,
//!            and 3 pods at 467/s each are within the 10 % tolerance);
//!   6000/s → 12, clamped to max 10;
//!   1400/s → 3 again (the temperature asks for ceil(10 × 35 / 80) = 5 first);
//!   then no load → back to min 1 (temperature: ceil(2 × 35 / 80) = 1).
//! Each must be reached within the bound the chain of delays predicts, the
//! replicas never pass max, and no request is lost while pods are removed.
//!
//! Run for both routes: prometheus-adapter's rules with deploy/base/hpa.yaml,
//! and KEDA's ScaledObject from deploy/overlays/keda.
//!
//! Needs `prometheus` and, for KEDA's, `kubectl` (skips loudly without
//! them, fails in CI).
//! `cargo test --test autoscale_lab -- --nocapture` prints the summary;
//! the timelines and charts land in target/tmp/autoscale-lab/test-*.

mod common;
mod e2e;
mod lab;

use std::path::PathBuf;

use common::require_tool;
use lab::run::{run, Outcome};
use lab::settings::{Route, Settings};
use lab::summary::Summary;

const PROFILE: &str = "200s:1400,250s:6000,360s:1400";

/// Cluster seconds from a load change to the replicas it asks for, as the
/// chain of delays predicts: the rate window takes in the change (window +
/// 2 scrapes), then each scaling step takes a sync, a scrape or two of the
/// new pods and their readiness period.
fn bound_up(o: &Outcome, steps: f64) -> f64 {
    o.window + 2.0 * o.scrape + steps * (o.sync + 2.0 * o.scrape + o.readiness_period)
}

/// The same down: each step waits out the stabilization window (or the
/// policy's period, if longer) from the first lower recommendation, which
/// comes at the sync after; the temperature's proposal only falls once the
/// pods are fewer, so the steps follow one another.
fn bound_down(o: &Outcome, steps: f64) -> f64 {
    let longest_period = o
        .behavior
        .scale_down
        .policies
        .iter()
        .map(|p| p.period_seconds)
        .fold(0.0, f64::max);
    o.window + 2.0 * o.scrape + steps * (o.scale_down_window.max(longest_period) + 2.0 * o.sync)
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

/// The two runs, one at a time: each is a dozen processes on a 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `want` replicas desired and ready within `bound` seconds of the stage's
/// start, and so until its end.
fn expect_reached(o: &Outcome, (from, until): (f64, f64), want: u32, bound: f64) {
    let at = reached(o, from, until, want);
    assert!(
        at.is_some_and(|t| t <= from + bound),
        "{want} replicas by {} s: {at:?}\n{}",
        from + bound,
        o.timeline.csv()
    );
}

#[test]
fn adapter_route_short_run() {
    short_run(Route::Adapter, "test-adapter");
}

/// The same with KEDA's triggers (`kubectl kustomize deploy/overlays/keda`)
/// in place of the adapter rules and the base HPA: the same replicas follow.
#[test]
fn keda_route_short_run() {
    if !require_tool("kubectl") {
        return;
    }
    short_run(Route::Keda, "test-keda");
}

fn short_run(route: Route, name: &str) {
    if !require_tool("prometheus") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut settings = Settings::defaults(PathBuf::from(env!("CARGO_BIN_EXE_custom-metrics-app")), PROFILE.into());
    settings.time_scale = 0.1;
    settings.load_scale = 0.04;
    settings.scale_down_window = Some(60.0);
    settings.concurrency = 16;
    settings.max_tail = 600.0;
    settings.out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("autoscale-lab");
    settings.name = name.into();
    settings.route = route;
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

    // 1400/s → 3, within the first stage.
    expect_reached(&o, (0.0, 200.0), 3, bound_up(&o, 2.0));
    // 6000/s → 10 (12 clamped), within the second.
    expect_reached(&o, (200.0, 450.0), 10, bound_up(&o, 2.0));
    // 1400/s again → 3 under load, within the third: 10 → 5 → 3 on the
    // adapter's route; KEDA's sums lag a step behind while removed pods'
    // series linger (Prometheus applies discovery changes at most every
    // 5 s, 50 cluster seconds at time x0.1), so three steps.
    expect_reached(&o, (450.0, 810.0), 3, bound_down(&o, 3.0));
    // No load → min 1 (3 → 2 → 1), and every pod gone cleanly.
    let end = rows.last().map_or(0.0, |r| r.t);
    expect_reached(&o, (810.0, end), 1, bound_down(&o, 2.0));

    // No request lost, during scale-in or ever; loadgen sent them all.
    assert_eq!(summary.scale_in_errors + summary.scale_in_failures, 0, "{}", show());
    assert_eq!(o.loadgen["errors"], 0, "{}", o.loadgen);
    assert_eq!(o.loadgen["completed"], o.loadgen["sent"], "{}", o.loadgen);
    assert_eq!(rows.last().map(|r| r.service_failures), Some(0));
    assert_eq!(o.exits.killed, 0, "every pod left on SIGTERM within its grace period");
}
