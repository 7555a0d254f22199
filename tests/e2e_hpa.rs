//! End to end, without a cluster: the pieces between the app and the HPA
//! decision, each real or read from deploy/.
//!
//! 1. Three "pods" a, b, c: the real binary on loopback ports.
//! 2. A real Prometheus scrapes them with the ServiceMonitor's path and
//!    scheme and the operator's relabeling (`namespace`, `pod`, ...). It
//!    scrapes every 1 s instead of the ServiceMonitor's 10 s, to keep the
//!    test short; every range window of the adapter rules is scaled by the
//!    same factor (1m → 6s), so a window holds as many samples as in the
//!    cluster.
//! 3. Known temperature changes with the loadgen (b: 3 × /cpuTempUp → 80,
//!    c: 2 × /cpuTempDown → 30, a stays at 50), then a known load on a:
//!    300 requests/s, keep-alive, for 12 s; a side thread records what a
//!    really received.
//! 4. The adapter's rules from deploy/prometheus-adapter-values.yaml: every
//!    seriesQuery must find the three pods' series with the namespace and pod
//!    labels its `resources.overrides` name, and every metricsQuery, rendered
//!    as prometheus-adapter renders it for a Pods request (`<<.Series>>`,
//!    `<<.LabelMatchers>>` = `namespace="default",pod=~"a|b|c"`,
//!    `<<.GroupBy>>` = `pod`), is evaluated at a moment well inside the load.
//!    qps must be within 10 % of what a received over the same window (0 on
//!    b and c), temperatures exact.
//! 5. The HPA of deploy/base/hpa.yaml, with the controller's algorithm over
//!    those values, must ask for the replicas computed from the known inputs.
//!
//! A second test runs a pod with `--error-ratio 0.1` under load and checks
//! that the PrometheusRule's error-ratio alert expression, evaluated by the
//! real Prometheus on what it scraped, sees 10 %, and fires.
//!
//! Needs `prometheus` (skips loudly without it, fails in CI). Prints the
//! figures: `cargo test --test e2e_hpa -- --nocapture`.

mod common;
mod e2e;

use std::collections::BTreeMap;
use std::time::Duration;

use common::loadgen::{requests_counted, run_loadgen, temperature};
use common::prometheus::Prometheus;
use common::{require_tool, spawn_binary};
use e2e::pods::{start_pods, step_temperature, Killed};
use e2e::prometheus::{scrape_config, Target};
use e2e::sampler::{unix_now, CounterSampler};
use e2e::{adapter, hpa, manifests};

const NAMESPACE: &str = "default";
const SERVICE: &str = "custom-metrics-app";
const PODS: [&str; 3] = ["a", "b", "c"];
const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

const SIM_START: f64 = 50.0;
const SIM_STEP: f64 = 10.0;
/// /cpuTempUp calls on b, /cpuTempDown calls on c.
const B_UPS: u32 = 3;
const C_DOWNS: u32 = 2;

const LOAD_RATE: f64 = 300.0;
const LOAD_SECONDS: f64 = 12.0;
/// Kept clear at each end of the load when choosing the evaluation window:
/// the first and last scrapes of the load only partly see it.
const MARGIN_SECONDS: f64 = 2.0;

/// Generous bounds for a busy 2-core machine; nothing here waits unbounded.
const LOADGEN_LIMIT: Duration = Duration::from_secs(120);
const PROMETHEUS_LIMIT: Duration = Duration::from_secs(60);

/// Each pod's value in a `... by (pod)` result.
fn by_pod(result: &[(serde_json::Value, f64)], pod_label: &str) -> BTreeMap<String, f64> {
    result
        .iter()
        .map(|(labels, v)| (labels[pod_label].as_str().expect("pod label").to_owned(), *v))
        .collect()
}

#[test]
fn hpa_pipeline_end_to_end() {
    if !require_tool("prometheus") {
        return;
    }
    // What users apply.
    let endpoint = manifests::service_monitor();
    let (default_rules, all_rules) = manifests::adapter_rules();
    let hpa_spec = manifests::hpa();
    assert!(!default_rules, "rules.default would expose un-rated series too");
    // The rules behind the base HPA's metrics: the simulated pods here have no
    // trip points, so cpuTemperatureTripRatio (real-sensors overlay) has no series.
    let rules: Vec<_> = all_rules
        .into_iter()
        .filter(|r| hpa_spec.targets.iter().any(|t| r.name_as.as_deref() == Some(&t.metric)))
        .collect();
    assert_eq!(rules.len(), hpa_spec.targets.len(), "one adapter rule per HPA metric");
    let factor = SCRAPE_INTERVAL.as_secs_f64() / endpoint.interval.as_secs_f64();
    let scrape_timeout = endpoint.timeout.mul_f64(factor);

    // 1-2. Pods and Prometheus.
    let pods = start_pods(&PODS, SIM_START, SIM_STEP);
    let targets: Vec<Target> = pods
        .iter()
        .map(|p| Target {
            pod: p.name,
            addr: p.addr,
        })
        .collect();
    let config = scrape_config(&endpoint, SCRAPE_INTERVAL, scrape_timeout, NAMESPACE, SERVICE, &targets);
    let prom = Prometheus::start(&config);
    prom.wait_for("all three pods scraped and up", PROMETHEUS_LIMIT, |p| {
        let up = p.query("up", None);
        up.len() == 3 && up.iter().all(|(_, v)| *v == 1.0)
    });
    for (labels, _) in prom.query("up", None) {
        assert_eq!(labels["namespace"], NAMESPACE, "{labels}");
        assert_eq!(labels["job"], SERVICE, "{labels}");
        assert_eq!(labels["endpoint"], endpoint.port.as_str(), "{labels}");
        assert!(PODS.contains(&labels["pod"].as_str().unwrap()), "{labels}");
    }

    // 3. Known temperatures, then the known load on a.
    let (a, b, c) = (&pods[0], &pods[1], &pods[2]);
    step_temperature(b, "/cpuTempUp", B_UPS, LOADGEN_LIMIT);
    step_temperature(c, "/cpuTempDown", C_DOWNS, LOADGEN_LIMIT);
    let expected_temperature = [
        SIM_START,
        SIM_START + f64::from(B_UPS) * SIM_STEP,
        SIM_START - f64::from(C_DOWNS) * SIM_STEP,
    ];
    for (pod, want) in pods.iter().zip(expected_temperature) {
        assert_eq!(temperature(pod.addr), want, "pod {}", pod.name);
    }

    let mut sampler = CounterSampler::start(a.addr, "/");
    let before = requests_counted(a.addr, "/");
    let load_start = unix_now();
    let load = run_loadgen(
        &[
            &format!("--url=http://{}/", a.addr),
            &format!("--rate={LOAD_RATE}"),
            &format!("--duration={LOAD_SECONDS}s"),
            "--connection=keep-alive",
            "--concurrency=8",
        ],
        &[],
        LOADGEN_LIMIT,
    );
    let after = requests_counted(a.addr, "/");
    std::thread::sleep(Duration::from_millis(300));
    sampler.stop();
    assert_eq!(load.code, Some(0), "{load:?}");
    assert_eq!(load.count("errors"), 0, "{load:?}");
    assert_eq!(load.count("completed"), after - before, "loadgen and the server agree");

    // 4. The adapter's rules against what Prometheus stored.
    let mut series_names = BTreeMap::new();
    for rule in &rules {
        let (ns_label, pod_label) = (
            adapter::resource_label(rule, "namespace"),
            adapter::resource_label(rule, "pod"),
        );
        let found = prom.series(&rule.series_query);
        let mut names: Vec<String> = found
            .iter()
            .map(|s| s["__name__"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            1,
            "{}: one series name, found {names:?}",
            rule.series_query
        );
        let mut pods_found: Vec<&str> = found
            .iter()
            .filter(|s| s[ns_label] == NAMESPACE)
            .map(|s| s[pod_label].as_str().expect("pod label on every series"))
            .collect();
        pods_found.sort();
        pods_found.dedup();
        assert_eq!(pods_found, PODS, "{}: series of every pod", rule.series_query);
        let metric = adapter::metric_name(rule, &names[0]);
        series_names.insert(metric, (rule, names[0].clone()));
    }

    // The evaluation moment: late in the load, its window inside the load.
    let eval = load_start + LOAD_SECONDS - MARGIN_SECONDS;
    let mut values: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut delivered = None;
    for target in &hpa_spec.targets {
        let (rule, series) = series_names
            .get(&target.metric)
            .unwrap_or_else(|| panic!("no adapter rule serves the HPA's metric {}", target.metric));
        let rendered = adapter::render(rule, series, NAMESPACE, &PODS);
        let scaled = adapter::scale_windows(&rendered, factor);
        println!("{}: {rendered}\n    in the test: {scaled}", target.metric);
        for window in adapter::windows(&scaled) {
            let w = window.as_secs_f64();
            assert!(
                eval - w >= load_start + MARGIN_SECONDS,
                "the {w} s window must fit inside the load"
            );
            delivered.get_or_insert((w, sampler.rate(eval - w, eval)));
        }
        let result = prom.query(&scaled, Some(eval));
        let per_pod = by_pod(&result, adapter::resource_label(rule, "pod"));
        assert_eq!(
            per_pod.keys().map(String::as_str).collect::<Vec<_>>(),
            PODS,
            "{scaled}: {result:?}"
        );
        values.insert(target.metric.clone(), per_pod);
    }

    let qps = &values["qps"];
    let (window, delivered) = delivered.expect("the qps rule has a rate window");
    println!(
        "qps over the {window} s window ending {:.1} s into the load:",
        eval - load_start
    );
    println!(
        "  a: {:.1}/s from Prometheus, {delivered:.1}/s delivered (server counter); \
         loadgen asked {LOAD_RATE}/s, achieved {}, completed {} of {}",
        qps["a"],
        load.value("achieved"),
        load.count("completed"),
        after - before
    );
    println!("  b: {}/s, c: {}/s (no load)", qps["b"], qps["c"]);
    assert!(
        (qps["a"] - delivered).abs() <= 0.1 * delivered,
        "qps of a: {} from Prometheus, {delivered} delivered",
        qps["a"]
    );
    assert_eq!((qps["b"], qps["c"]), (0.0, 0.0));
    let temps = &values["cpuTemperature"];
    println!("cpuTemperature: a {}, b {}, c {}", temps["a"], temps["b"], temps["c"]);
    for (pod, want) in PODS.iter().zip(expected_temperature) {
        assert_eq!(temps[*pod], want, "cpuTemperature of {pod}");
    }

    // 5. The HPA's decision, from Prometheus' values and from the known inputs.
    let current = PODS.len() as u32;
    let known: BTreeMap<&str, [f64; 3]> =
        [("qps", [LOAD_RATE, 0.0, 0.0]), ("cpuTemperature", expected_temperature)].into();
    let mut proposals = Vec::new();
    let mut expected_proposals = Vec::new();
    println!(
        "HPA (deploy/base/hpa.yaml: min {}, max {}), {current} current replicas:",
        hpa_spec.min_replicas, hpa_spec.max_replicas
    );
    for target in &hpa_spec.targets {
        let goal = hpa::milli(&target.average_value);
        let measured: Vec<i64> = PODS
            .iter()
            .map(|p| hpa::adapter_milli(values[&target.metric][*p]))
            .collect();
        let inputs = known
            .get(target.metric.as_str())
            .unwrap_or_else(|| panic!("no known input for {}", target.metric));
        let expected: Vec<i64> = inputs.iter().map(|v| hpa::adapter_milli(*v)).collect();
        let proposal = hpa::replicas_for_metric(&measured, goal, current);
        let expected_proposal = hpa::replicas_for_metric(&expected, goal, current);
        println!(
            "  {}: average {:.3} / target {} = ratio {:.3} → {proposal} replicas (from the known inputs: ratio {:.3} → {expected_proposal})",
            target.metric,
            measured.iter().sum::<i64>() as f64 / measured.len() as f64 / 1000.0,
            target.average_value,
            hpa::usage_ratio(&measured, goal),
            hpa::usage_ratio(&expected, goal),
        );
        proposals.push(proposal);
        expected_proposals.push(expected_proposal);
    }
    let desired = hpa::desired(&proposals, hpa_spec.min_replicas, hpa_spec.max_replicas);
    let expected = hpa::desired(&expected_proposals, hpa_spec.min_replicas, hpa_spec.max_replicas);
    println!("  desired replicas: {desired} (expected from the known load: {expected})");
    assert_eq!(proposals, expected_proposals);
    assert_eq!(desired, expected);
}

/// `--error-ratio` through Prometheus: the alert of deploy/base/prometheusrule.yaml
/// sees the injected share of 5xx answers.
#[test]
fn error_ratio_alert_end_to_end() {
    const ERROR_RATIO: f64 = 0.1;
    const RATE: f64 = 200.0;
    const SECONDS: f64 = 10.0;
    if !require_tool("prometheus") {
        return;
    }
    let endpoint = manifests::service_monitor();
    let factor = SCRAPE_INTERVAL.as_secs_f64() / endpoint.interval.as_secs_f64();
    let scrape_timeout = endpoint.timeout.mul_f64(factor);
    let ratio = ERROR_RATIO.to_string();
    let (child, addr) = spawn_binary(&["--workers", "1", "--error-ratio", &ratio]);
    let _pod = Killed(child);
    let targets = [Target { pod: "e", addr }];
    let config = scrape_config(&endpoint, SCRAPE_INTERVAL, scrape_timeout, NAMESPACE, SERVICE, &targets);
    let prom = Prometheus::start(&config);
    prom.wait_for("the pod scraped and up", PROMETHEUS_LIMIT, |p| {
        p.query("up", None).iter().any(|(_, v)| *v == 1.0)
    });

    let load_start = unix_now();
    let load = run_loadgen(
        &[
            &format!("--url=http://{addr}/"),
            &format!("--rate={RATE}"),
            &format!("--duration={SECONDS}s"),
            "--concurrency=4",
            "--progress=0",
        ],
        &[],
        LOADGEN_LIMIT,
    );
    assert_eq!(load.code, Some(0), "{load:?}");
    let completed = load.count("completed");
    let failed = (completed as f64 * ERROR_RATIO).floor() as u64;
    assert_eq!(load.value("status"), format!("200={} 500={failed}", completed - failed));

    let expr = manifests::alert_expr("CustomMetricsAppErrorRatioHigh");
    let scaled = adapter::scale_windows(&expr, factor);
    let eval = load_start + SECONDS - MARGIN_SECONDS;
    for window in adapter::windows(&scaled) {
        assert!(
            eval - window.as_secs_f64() >= load_start + MARGIN_SECONDS,
            "{scaled}: window inside the load"
        );
    }
    // Wait for the scrape after the evaluation moment before asking.
    prom.wait_for("a scrape after the evaluation moment", PROMETHEUS_LIMIT, |_| {
        unix_now() > eval + 2.0
    });
    let result = prom.query(&scaled, Some(eval));
    println!(
        "{expr}\n    in the test: {scaled}\n    at {:.1} s into the load: {result:?}",
        eval - load_start
    );
    assert_eq!(result.len(), 1, "the alert fires for the one job: {result:?}");
    let (labels, seen) = &result[0];
    assert_eq!(
        (labels["namespace"].as_str(), labels["job"].as_str()),
        (Some(NAMESPACE), Some(SERVICE))
    );
    assert!(
        (seen - ERROR_RATIO).abs() <= 0.01,
        "error ratio {seen} from Prometheus, {ERROR_RATIO} injected"
    );
}
