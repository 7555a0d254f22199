//! KEDA's route against prometheus-adapter's, end to end without a cluster:
//! both read the same real Prometheus scraping three real instances of the
//! app, and must lead the HPA to the same replicas.
//!
//! 1. The ScaledObject from `kubectl kustomize deploy/overlays/keda` (what
//!    users apply: its namespace and queries as rendered); the adapter rules
//!    and the HPA from deploy/ as tests/e2e_hpa.rs reads them.
//! 2. Pods a, b, c (the binary on loopback) scraped every 1 s by a real
//!    Prometheus with the operator's relabeling, in the ScaledObject's
//!    namespace; every range window is scaled by the same factor as in
//!    tests/e2e_hpa.rs (1m → 6s), for the KEDA queries too.
//! 3. Two moments, each evaluated by both routes:
//!    - idle: no load, every pod at 50 °C;
//!    - load: b heated to 100 °C and c to 80 °C, then 1800 requests/s on a.
//!
//!    Adapter route: each rule rendered for a Pods request, per-pod values,
//!    the HPA's Pods/AverageValue calculation. KEDA route: each trigger's
//!    query as KEDA's scaler runs it (exactly one sample, else an error),
//!    the value as KEDA serves it (milli-units), the HPA's
//!    External/AverageValue calculation (value / replicas against the
//!    threshold). Per metric and overall, the replicas must be equal, and
//!    equal to what the known inputs give.
//! 4. Queries broken on purpose (two samples; none) are refused with a
//!    message that says so, as KEDA refuses them.
//!
//! Not run here: a KEDA operator, its metrics server and a cluster's HPA
//! controller; their arithmetic is modelled in tests/e2e/{keda,hpa}.rs from
//! their sources. Needs `prometheus` and `kubectl` (skips loudly without,
//! fails in CI). Prints the figures: `cargo test --test e2e_keda -- --nocapture`.

mod common;
mod e2e;

use std::collections::BTreeMap;
use std::time::Duration;

use common::loadgen::{run_loadgen, temperature};
use common::prometheus::Prometheus;
use common::require_tool;
use e2e::keda::{self, QueryError, ScaledObject, Trigger};
use e2e::manifests::{self, AdapterRule, Hpa};
use e2e::pods::{start_pods, step_temperature, Pod};
use e2e::prometheus::{scrape_config, Target};
use e2e::sampler::{unix_now, CounterSampler};
use e2e::{adapter, hpa};

const SERVICE: &str = "custom-metrics-app";
const PODS: [&str; 3] = ["a", "b", "c"];
const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

const SIM_START: f64 = 50.0;
const SIM_STEP: f64 = 10.0;
/// /cpuTempUp calls on b and on c before the load.
const B_UPS: u32 = 5;
const C_UPS: u32 = 3;

const LOAD_RATE: f64 = 1800.0;
const LOAD_SECONDS: f64 = 12.0;
const MARGIN_SECONDS: f64 = 2.0;

const LOADGEN_LIMIT: Duration = Duration::from_secs(120);
const PROMETHEUS_LIMIT: Duration = Duration::from_secs(60);

/// What both routes read, set up once.
struct Setup {
    so: ScaledObject,
    hpa: Hpa,
    /// HPA metric name → (adapter rule, series name).
    rules: BTreeMap<String, (AdapterRule, String)>,
    factor: f64,
    prom: Prometheus,
    pods: Vec<Pod>,
}

/// One route's view of one metric at one moment.
#[derive(Debug)]
struct Reading {
    /// The numbers the HPA gets, in milli-units (per pod, or KEDA's one total).
    served: Vec<i64>,
    ratio: f64,
    replicas: u32,
}

fn setup() -> Setup {
    let so = keda::rendered(&manifests::deploy_dir().join("overlays/keda"));
    let hpa = manifests::hpa();
    let endpoint = manifests::service_monitor();
    let (_, all_rules) = manifests::adapter_rules();
    // The rules behind the base HPA's metrics: the simulated pods have no trip
    // points, so cpuTemperatureTripRatio (real sensors only) has no series.
    let rules: Vec<_> = all_rules
        .into_iter()
        .filter(|r| hpa.targets.iter().any(|t| r.name_as.as_deref() == Some(&t.metric)))
        .collect();
    let factor = SCRAPE_INTERVAL.as_secs_f64() / endpoint.interval.as_secs_f64();

    let pods = start_pods(&PODS, SIM_START, SIM_STEP);
    let targets: Vec<Target> = pods
        .iter()
        .map(|p| Target {
            pod: p.name,
            addr: p.addr,
        })
        .collect();
    let config = scrape_config(
        &endpoint,
        SCRAPE_INTERVAL,
        endpoint.timeout.mul_f64(factor),
        &so.namespace,
        SERVICE,
        &targets,
    );
    let prom = Prometheus::start(&config);
    prom.wait_for("all three pods scraped and up", PROMETHEUS_LIMIT, |p| {
        let up = p.query("up", None);
        up.len() == 3 && up.iter().all(|(_, v)| *v == 1.0)
    });

    let mut by_metric = BTreeMap::new();
    for rule in rules {
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
        let metric = adapter::metric_name(&rule, &names[0]);
        by_metric.insert(metric, (rule, names.remove(0)));
    }
    Setup {
        so,
        hpa,
        rules: by_metric,
        factor,
        prom,
        pods,
    }
}

fn trigger_for<'a>(s: &'a Setup, metric: &str) -> &'a Trigger {
    s.so.triggers
        .iter()
        .find(|t| t.name == metric)
        .unwrap_or_else(|| panic!("no trigger of the ScaledObject is named after the HPA metric {metric}"))
}

/// The adapter route for `metric` at `eval`.
fn adapter_reading(s: &Setup, metric: &str, average_value: &str, eval: f64) -> Reading {
    let (rule, series) = &s.rules[metric];
    let query = adapter::scale_windows(&adapter::render(rule, series, &s.so.namespace, &PODS), s.factor);
    let result = s.prom.query(&query, Some(eval));
    let pod_label = adapter::resource_label(rule, "pod");
    let per_pod: BTreeMap<&str, f64> = result
        .iter()
        .map(|(labels, v)| (labels[pod_label].as_str().expect("pod label"), *v))
        .collect();
    assert_eq!(per_pod.keys().copied().collect::<Vec<_>>(), PODS, "{query}: {result:?}");
    let served: Vec<i64> = PODS.iter().map(|p| hpa::adapter_milli(per_pod[p])).collect();
    let goal = hpa::milli(average_value);
    let current = PODS.len() as u32;
    Reading {
        ratio: hpa::usage_ratio(&served, goal),
        replicas: hpa::replicas_for_metric(&served, goal, current),
        served,
    }
}

/// The query of `trigger` as the test runs it (windows scaled).
fn test_query(s: &Setup, trigger: &Trigger) -> String {
    adapter::scale_windows(&trigger.query, s.factor)
}

/// KEDA's route for `trigger` at `eval`: its scaler's reading, then its HPA.
fn keda_reading(s: &Setup, trigger: &Trigger, eval: f64) -> Result<Reading, QueryError> {
    assert_eq!(
        trigger.metric_type, "AverageValue",
        "trigger {}: only AverageValue is modelled",
        trigger.name
    );
    let query = test_query(s, trigger);
    let value = keda::scaler_value(trigger, &query, &s.prom.query(&query, Some(eval)))?;
    let served = vec![keda::served_milli(value)];
    let goal = hpa::milli(&trigger.threshold);
    let current = PODS.len() as u32;
    Ok(Reading {
        ratio: hpa::external_usage_ratio(&served, goal, current),
        replicas: hpa::replicas_for_external_per_pod(&served, goal, current),
        served,
    })
}

fn show(served: &[i64]) -> String {
    served
        .iter()
        .map(|m| format!("{:.3}", *m as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Both routes at `eval`; `known` gives each metric's per-pod inputs, from
/// which the expected replicas are computed. Returns the overall desired
/// replicas (equal for both routes).
fn compare_routes(s: &Setup, moment: &str, eval: f64, known: &BTreeMap<&str, [f64; 3]>) -> u32 {
    let current = PODS.len() as u32;
    let (min, max) = (s.hpa.min_replicas, s.hpa.max_replicas);
    assert_eq!(
        (s.so.min_replicas, s.so.max_replicas),
        (min, max),
        "the ScaledObject's bounds are the HPA's"
    );
    println!("{moment}: {current} current replicas, HPA bounds {min}..{max}");
    let (mut adapter_proposals, mut keda_proposals, mut expected_proposals) = (vec![], vec![], vec![]);
    for target in &s.hpa.targets {
        let trigger = trigger_for(s, &target.metric);
        assert_eq!(
            hpa::milli(&trigger.threshold),
            hpa::milli(&target.average_value),
            "trigger {}: threshold is the HPA's per-pod target",
            trigger.name
        );
        let a = adapter_reading(s, &target.metric, &target.average_value, eval);
        let k = keda_reading(s, trigger, eval).unwrap_or_else(|e| panic!("{moment}: {e}"));
        let goal = hpa::milli(&target.average_value);
        let expect_at = |scale: f64| {
            let inputs: Vec<i64> = known[target.metric.as_str()]
                .iter()
                .map(|v| hpa::adapter_milli(v * scale))
                .collect();
            hpa::replicas_for_metric(&inputs, goal, current)
        };
        let expected = expect_at(1.0);
        // A measured input (the delivered load) within 2 % of a decision
        // boundary may fall either side of it in Prometheus' window: then
        // only the two routes are compared with each other.
        let decided = expect_at(0.98) == expect_at(1.02);
        println!(
            "  {:<15} adapter: Pods {} (avg {:.3}) / target {} → ratio {:.3} → {} replicas",
            target.metric,
            show(&a.served),
            a.served.iter().sum::<i64>() as f64 / a.served.len() as f64 / 1000.0,
            target.average_value,
            a.ratio,
            a.replicas
        );
        println!(
            "  {:<15} KEDA:    External {} / ({current} × threshold {}) → ratio {:.3} → {} replicas   (known inputs: {expected})",
            "",
            show(&k.served),
            trigger.threshold,
            k.ratio,
            k.replicas
        );
        assert_eq!(
            k.replicas, a.replicas,
            "{moment}, {}: KEDA's HPA asks for {} replicas, the adapter route's for {}",
            target.metric, k.replicas, a.replicas
        );
        if decided {
            assert_eq!(
                a.replicas, expected,
                "{moment}, {}: {} replicas from Prometheus, {expected} from the known inputs",
                target.metric, a.replicas
            );
        } else {
            println!(
                "  (known inputs within 2 % of a decision boundary: the routes are compared with each other only)"
            );
        }
        adapter_proposals.push(a.replicas);
        keda_proposals.push(k.replicas);
        expected_proposals.push(if decided { expected } else { a.replicas });
    }
    let adapter_desired = hpa::desired(&adapter_proposals, min, max);
    let keda_desired = hpa::desired(&keda_proposals, s.so.min_replicas, s.so.max_replicas);
    let expected = hpa::desired(&expected_proposals, min, max);
    println!(
        "  desired replicas: adapter route {adapter_desired}, KEDA route {keda_desired} (known inputs: {expected})"
    );
    assert_eq!(
        keda_desired, adapter_desired,
        "{moment}: desired replicas differ between the routes"
    );
    assert_eq!(
        adapter_desired, expected,
        "{moment}: desired replicas differ from the known inputs'"
    );
    adapter_desired
}

/// Waits until a scrape after `eval` has been stored, so that a query at
/// `eval` sees its whole window.
fn wait_past(prom: &Prometheus, eval: f64) {
    prom.wait_for("a scrape after the evaluation moment", PROMETHEUS_LIMIT, |_| {
        unix_now() > eval + 2.0 * SCRAPE_INTERVAL.as_secs_f64()
    });
}

/// The longest range window of the triggers' queries, as the test runs them.
fn longest_window(s: &Setup) -> f64 {
    s.so.triggers
        .iter()
        .flat_map(|t| adapter::windows(&test_query(s, t)))
        .map(|w| w.as_secs_f64())
        .fold(0.0, f64::max)
}

#[test]
fn keda_and_adapter_routes_agree() {
    if !require_tool("prometheus") || !require_tool("kubectl") {
        return;
    }
    let s = setup();
    for t in &s.so.triggers {
        assert!(
            !t.ignore_null_values,
            "trigger {}: ignoreNullValues must be false, or a lost series reads as 0",
            t.name
        );
        println!(
            "trigger {} (threshold {}): {}\n    in the test: {}",
            t.name,
            t.threshold,
            t.query,
            test_query(&s, t)
        );
    }
    let window = longest_window(&s);
    assert!(window > 0.0, "the qps trigger has a rate window");

    // Idle: no request but the scrapes (left out by both), every pod at 50 °C.
    let idle_eval = unix_now() + window + MARGIN_SECONDS;
    wait_past(&s.prom, idle_eval);
    let idle_known: BTreeMap<&str, [f64; 3]> = [("qps", [0.0; 3]), ("cpuTemperature", [SIM_START; 3])].into();
    let idle = compare_routes(&s, "idle (no load, 50/50/50 °C)", idle_eval, &idle_known);

    // Under load: b and c heated, then 1800 requests/s on a.
    let (a, b, c) = (&s.pods[0], &s.pods[1], &s.pods[2]);
    step_temperature(b, "/cpuTempUp", B_UPS, LOADGEN_LIMIT);
    step_temperature(c, "/cpuTempUp", C_UPS, LOADGEN_LIMIT);
    let temps = [
        SIM_START,
        SIM_START + f64::from(B_UPS) * SIM_STEP,
        SIM_START + f64::from(C_UPS) * SIM_STEP,
    ];
    for (pod, want) in s.pods.iter().zip(temps) {
        assert_eq!(temperature(pod.addr), want, "pod {}", pod.name);
    }
    let mut sampler = CounterSampler::start(a.addr, "/");
    let load_start = unix_now();
    let load = run_loadgen(
        &[
            &format!("--url=http://{}/", a.addr),
            &format!("--rate={LOAD_RATE}"),
            &format!("--duration={LOAD_SECONDS}s"),
            "--connection=keep-alive",
            "--concurrency=8",
            "--progress=0",
        ],
        &[],
        LOADGEN_LIMIT,
    );
    std::thread::sleep(Duration::from_millis(300));
    sampler.stop();
    assert_eq!(load.code, Some(0), "{load:?}");
    assert_eq!(load.count("errors"), 0, "{load:?}");
    let load_eval = load_start + LOAD_SECONDS - MARGIN_SECONDS;
    assert!(
        load_eval - window >= load_start + MARGIN_SECONDS,
        "the {window} s window must fit inside the load"
    );
    wait_past(&s.prom, load_eval);
    let delivered = sampler.rate(load_eval - window, load_eval);
    println!(
        "load on a: asked {LOAD_RATE}/s, achieved {}, {delivered:.1}/s delivered over the {window} s window",
        load.value("achieved")
    );
    // The known inputs are what a really received: a loaded machine may
    // fall short of the rate asked, and the expectation must follow it.
    let load_known: BTreeMap<&str, [f64; 3]> = [("qps", [delivered, 0.0, 0.0]), ("cpuTemperature", temps)].into();
    let loaded = compare_routes(
        &s,
        &format!("load ({delivered:.0}/s on a, 50/100/80 °C)"),
        load_eval,
        &load_known,
    );
    if delivered > 0.9 * LOAD_RATE {
        assert!(
            loaded > idle,
            "the load must raise the replicas: idle {idle}, loaded {loaded}"
        );
    }

    // Broken on purpose: what KEDA would refuse, reported as such.
    let qps = trigger_for(&s, "qps");
    let good = test_query(&s, qps);
    let matcher = format!("namespace=\"{}\"", s.so.namespace);
    assert!(good.starts_with("sum("), "{good}");
    let two = good
        .replacen("sum(", "sum by (pod) (", 1)
        .replacen(&matcher, &format!("{matcher},pod=~\"a|b\""), 1);
    let none = good.replacen(&matcher, "namespace=\"no-such-namespace\"", 1);
    match keda::scaler_value(qps, &two, &s.prom.query(&two, Some(load_eval))) {
        Err(e @ QueryError::Several { .. }) => {
            println!("broken on purpose (two samples) → {e}");
            assert!(e.to_string().contains("returned 2 samples"), "{e}");
        }
        other => panic!("{two}: two samples must be refused, got {other:?}"),
    }
    match keda::scaler_value(qps, &none, &s.prom.query(&none, Some(load_eval))) {
        Err(e @ QueryError::Empty { .. }) => println!("broken on purpose (no sample) → {e}"),
        other => panic!("{none}: no sample must be refused with ignoreNullValues false, got {other:?}"),
    }
    // KEDA's default would have hidden it: the lost series reads as 0.
    let lenient = Trigger {
        ignore_null_values: true,
        ..qps.clone()
    };
    let hidden = keda::scaler_value(&lenient, &none, &s.prom.query(&none, Some(load_eval)));
    println!("  with KEDA's default ignoreNullValues true, the same query reads as {hidden:?}");
    assert_eq!(hidden, Ok(0.0));
}
