//! One lab run: Prometheus with file-based discovery, the Service, the
//! Deployment at its minimum, a warm-up until Prometheus serves the pod's
//! metrics, then the load and the loop: every 100 ms (lab time) the kubelet
//! and the Service move on; every sync period the modelled HPA reads the
//! metrics API and sets the replicas; every cluster second a timeline row.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::prometheus::Prometheus;
use crate::e2e::hpa_behavior::Behavior;
use crate::e2e::hpa_controller::Controller;
use crate::e2e::manifests;
use crate::e2e::prometheus::{file_sd_config, target_groups, Target};

use super::deployment::{Deployment, Exits};
use super::load::{Load, Profile};
use super::metrics_api::{deploy_window, Autoscaler};
use super::service::Service;
use super::settings::{Route, Settings};
use super::timeline::{Row, Timeline};

const NAMESPACE: &str = "default";
const SERVICE: &str = "custom-metrics-app";

/// What a run produced.
pub struct Outcome {
    pub route: Route,
    /// loadgen's rates and the qps target times this (lab override).
    pub load_scale: f64,
    pub timeline: Timeline,
    pub profile: Profile,
    pub overrides: Vec<String>,
    pub min: u32,
    pub max: u32,
    /// The HPA's targets as the lab used them: (metric, per-pod value).
    pub targets: Vec<(String, f64)>,
    /// Settings in cluster seconds: scrape interval, rate window, sync,
    /// readiness period, scale-down stabilization.
    pub scrape: f64,
    pub window: f64,
    pub sync: f64,
    pub readiness_period: f64,
    pub scale_down_window: f64,
    /// The behavior the modelled HPA ran with (overrides applied).
    pub behavior: Behavior,
    pub loadgen: serde_json::Value,
    pub exits: Exits,
}

/// The lab's clock in cluster seconds.
struct Clock {
    start: Instant,
    scale: f64,
}

impl Clock {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() / self.scale
    }

    fn lab(&self, cluster_seconds: f64) -> Duration {
        Duration::from_secs_f64(cluster_seconds * self.scale)
    }
}

pub fn run(settings: &Settings) -> Outcome {
    let endpoint = manifests::service_monitor();
    let (_, rules) = manifests::adapter_rules();
    let template = manifests::deployment();
    let profile = Profile::parse(&settings.stages).unwrap_or_else(|e| panic!("--stages: {e}"));

    let deploy_scrape = endpoint.interval.as_secs_f64();
    let deploy_window = deploy_window(&rules);
    let scrape = settings.scrape_interval.unwrap_or(deploy_scrape);
    let window = settings.window.unwrap_or(deploy_window);
    let clock = Clock {
        start: Instant::now(),
        scale: settings.time_scale,
    };

    // Prometheus, discovering the pods from a file the Deployment rewrites.
    let sd_dir = std::env::temp_dir().join(format!("cma-lab-{}-{}", std::process::id(), crate::common::free_port()));
    std::fs::create_dir_all(&sd_dir).unwrap();
    let sd_file = sd_dir.join("pods.json");
    let timeout = (endpoint.timeout.as_secs_f64() * scrape / deploy_scrape).min(scrape);
    let write_sd = |pods: &[(String, std::net::SocketAddr)]| {
        let targets: Vec<Target> = pods.iter().map(|(pod, addr)| Target { pod, addr: *addr }).collect();
        let tmp = sd_dir.join("pods.json.tmp");
        std::fs::write(&tmp, target_groups(&endpoint, NAMESPACE, SERVICE, &targets)).unwrap();
        std::fs::rename(&tmp, &sd_file).unwrap();
    };
    write_sd(&[]);
    let config = file_sd_config(
        &endpoint,
        clock.lab(scrape),
        clock.lab(timeout),
        NAMESPACE,
        SERVICE,
        &sd_file,
    );
    let prom = Prometheus::start(&config);
    let service = Service::start();
    let mut deployment = Deployment::new(template.clone(), &settings.app_bin);
    let mut discovered = Vec::new();
    let mut step = |deployment: &mut Deployment, now: f64| {
        deployment.tick(now);
        service.set_endpoints(deployment.endpoints());
        let d = deployment.discovered();
        if d != discovered {
            write_sd(&d);
            discovered = d;
        }
    };

    // Warm-up: a first pod, so that the rules' series exist; then the
    // route's minimum, ready, every metric served (the load starts from a
    // settled state).
    let window_factor = window / deploy_window * settings.time_scale;
    let discover = || Autoscaler::discover(settings.route, &prom, NAMESPACE, settings.load_scale, window_factor);
    let warm_limit =
        clock.now() + 10.0 * (window + scrape + template.readiness.period_seconds) + 60.0 / settings.time_scale;
    let warm_pause = clock.lab(1.0).min(Duration::from_millis(250));
    deployment.scale_to(clock.now(), 1);
    let autoscaler = loop {
        step(&mut deployment, clock.now());
        if let Some(a) = discover() {
            if deployment.replicas != a.min {
                deployment.scale_to(clock.now(), a.min);
            } else if deployment.ready() == a.min {
                let view = deployment.hpa_view();
                if a.read(&prom, &view, a.min, a.min).iter().all(|r| r.proposal.is_some()) {
                    break a;
                }
            }
        }
        assert!(
            clock.now() < warm_limit,
            "warm-up: no metrics for the first pods\n{}",
            prom.log()
        );
        std::thread::sleep(warm_pause);
    };
    for s in &autoscaler.sources {
        eprintln!("lab: {} ← {}", s.metric, autoscaler.query(s, &["<pods>"]));
    }
    let mut behavior = autoscaler.behavior.clone();
    let deploy_down = behavior.scale_down.stabilization_seconds;
    if let Some(w) = settings.scale_down_window {
        behavior.scale_down.stabilization_seconds = w;
    }
    let overrides = settings.overrides(deploy_scrape, deploy_window, deploy_down);
    let targets: Vec<(String, i64)> = autoscaler
        .sources
        .iter()
        .map(|s| (s.metric.clone(), s.target))
        .collect();

    // The load and the loop.
    let load_stages = profile.scaled(settings.load_scale, settings.time_scale);
    eprintln!(
        "lab: loadgen --stages={load_stages} through the Service at {}",
        service.addr
    );
    let t0 = clock.now();
    let mut load = Some(Load::start(
        &settings.app_bin,
        service.addr,
        &load_stages,
        settings.concurrency,
        clock.lab(1.0),
    ));
    let mut controller = Controller::new(autoscaler.min, autoscaler.max, behavior.clone());
    let mut rows: Vec<Row> = Vec::new();
    let mut loadgen = serde_json::Value::Null;
    // The load starts half a sync period after a sync: the average phase.
    let mut next_sync = t0 + settings.sync_period / 2.0;
    let mut next_row = t0;
    let (mut hpa_qps, mut hpa_temperature, mut synced) = (None, None, false);
    let mut last_completed = 0;
    let mut completed = std::collections::VecDeque::new();
    let load_end = t0 + profile.seconds();
    let mut settled_since = None;
    loop {
        let now = clock.now();
        step(&mut deployment, now);
        if now >= next_sync {
            next_sync += settings.sync_period;
            let view = deployment.hpa_view();
            let status = deployment.discovered().len() as u32;
            let readings = autoscaler.read(&prom, &view, deployment.replicas, status);
            for (source, reading) in autoscaler.sources.iter().zip(&readings) {
                match source.metric.as_str() {
                    "qps" => hpa_qps = reading.per_pod,
                    "cpuTemperature" => hpa_temperature = reading.per_pod,
                    _ => {}
                }
            }
            let proposals: Vec<Option<u32>> = readings.iter().map(|r| r.proposal).collect();
            let decision = controller.sync(now - t0, deployment.replicas, &proposals);
            if decision.desired != deployment.replicas {
                eprintln!(
                    "lab: t={:.0}s HPA {} → {} replicas (proposals {proposals:?}, ready {})",
                    now - t0,
                    deployment.replicas,
                    decision.desired,
                    deployment.ready()
                );
                deployment.scale_to(now, decision.desired);
            }
            synced = true;
        }
        if now >= next_row {
            next_row += 1.0;
            let progress = load
                .as_ref()
                .map_or(Default::default(), |l| *l.progress.lock().unwrap());
            // Responses per second over the last five rows: loadgen's
            // progress lines come at its own pace, a row's delta jitters.
            completed.push_back((now, last_completed.max(progress.completed)));
            last_completed = last_completed.max(progress.completed);
            if completed.len() > 6 {
                completed.pop_front();
            }
            let (t_first, n_first) = completed[0];
            let served = if now > t_first {
                (last_completed - n_first) as f64 / ((now - t_first) * settings.time_scale)
            } else {
                0.0
            };
            rows.push(Row {
                t: (now - t0).round(),
                offered_rps: profile.rate_at(now - t0) * settings.load_scale,
                served_rps: served,
                errors: progress.errors.max(loadgen["errors"].as_u64().unwrap_or(0)),
                service_failures: service.failures.total(),
                hpa_qps,
                hpa_temperature,
                desired: deployment.replicas,
                ready: deployment.ready(),
                pods: deployment.discovered().len() as u32,
                terminating: deployment.terminating(),
                sync: std::mem::take(&mut synced),
            });
        }
        if load.as_mut().is_some_and(Load::finished) {
            loadgen = load.take().unwrap().summary();
        }
        let settled = load.is_none()
            && deployment.replicas == autoscaler.min
            && deployment.ready() == autoscaler.min
            && deployment.terminating() == 0;
        settled_since = if settled { settled_since.or(Some(now)) } else { None };
        // Done once back at the minimum for a sync period and a half, or
        // out of patience.
        if settled_since.is_some_and(|s| now - s > 1.5 * settings.sync_period)
            || (load.is_none() && now > load_end + settings.max_tail)
        {
            break;
        }
        std::thread::sleep(
            clock
                .lab(0.1)
                .clamp(Duration::from_millis(10), Duration::from_millis(100)),
        );
    }
    deployment.shut_down(|| clock.now());
    let _ = std::fs::remove_dir_all(&sd_dir);
    let readiness_period = template.readiness.period_seconds;
    Outcome {
        route: settings.route,
        load_scale: settings.load_scale,
        timeline: Timeline { rows },
        profile,
        overrides,
        min: autoscaler.min,
        max: autoscaler.max,
        targets: targets.into_iter().map(|(m, v)| (m, v as f64 / 1000.0)).collect(),
        scrape,
        window,
        sync: settings.sync_period,
        readiness_period,
        scale_down_window: behavior.scale_down.stabilization_seconds,
        behavior,
        loadgen,
        exits: deployment.exits,
    }
}

/// The JSON header of the timeline file.
pub fn header(o: &Outcome, settings: &Settings) -> serde_json::Value {
    serde_json::json!({
        "real": "the app processes (pods), their probes' HTTP requests, Prometheus and its file-based discovery, the adapter rules' PromQL, loadgen, the Service's connections",
        "route": settings.route.describe(),
        "modelled": "the HPA controller (tests/e2e/hpa*.rs), the kubelet's probe schedule and the ReplicaSet's choice of pods (tests/lab/deployment.rs); no pod scheduling or image pull time",
        "lab_overrides": o.overrides,
        "stages": settings.stages,
        "load_scale": settings.load_scale,
        "time_scale": settings.time_scale,
        "scrape_interval_s": o.scrape,
        "rate_window_s": o.window,
        "sync_period_s": o.sync,
        "scale_down_stabilization_s": o.scale_down_window,
        "min_replicas": o.min,
        "max_replicas": o.max,
        "targets": o.targets.iter().map(|(m, v)| (m.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
        "loadgen": o.loadgen,
        "pod_exits": {"clean": o.exits.clean, "killed": o.exits.killed},
    })
}

/// Writes the timeline, its CSV and chart under the settings' directory.
pub fn write(o: &Outcome, settings: &Settings, summary: &str) -> std::io::Result<()> {
    let mut head = header(o, settings);
    head["summary"] = summary.lines().collect::<Vec<_>>().into();
    o.timeline.write(&settings.out_dir, &settings.name, head)?;
    let svg = super::chart::svg(o, summary);
    std::fs::write(Path::new(&settings.out_dir).join(format!("{}.svg", settings.name)), svg)
}
