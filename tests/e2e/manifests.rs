//! What the end-to-end test reads from deploy/: the ServiceMonitor's scrape
//! endpoint, prometheus-adapter's custom rules, the HPA's bounds and targets,
//! the PrometheusRule's alert expressions.
//! Read from the files every run, so the test checks what users apply.

use std::path::{Path, PathBuf};
use std::time::Duration;

use custom_metrics_app::internals::grammar::duration;
use yaml_rust2::{Yaml, YamlLoader};

use super::hpa_behavior::{Behavior, Policy, PolicyKind, Rules, Select};

pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// The one YAML document of `deploy/<relative>`.
fn load(relative: &str) -> Yaml {
    let path = deploy_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

fn string(y: &Yaml, what: &str) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        other => panic!("{what}: expected a string, found {other:?}"),
    }
}

fn optional_string(y: &Yaml) -> Option<String> {
    (!y.is_badvalue() && !y.is_null()).then(|| string(y, "optional field"))
}

fn seconds(y: &Yaml, what: &str) -> Duration {
    let text = string(y, what);
    duration::parse(&text).unwrap_or_else(|| panic!("{what}: {text:?} is not a duration"))
}

/// The ServiceMonitor's (only) endpoint.
#[derive(Debug, Clone)]
pub struct ScrapeEndpoint {
    pub port: String,
    pub path: String,
    pub scheme: String,
    pub interval: Duration,
    pub timeout: Duration,
}

pub fn service_monitor() -> ScrapeEndpoint {
    let sm = load("base/servicemonitor.yaml");
    assert_eq!(string(&sm["kind"], "kind"), "ServiceMonitor");
    let endpoints = sm["spec"]["endpoints"].as_vec().expect("spec.endpoints");
    assert_eq!(endpoints.len(), 1, "one scrape endpoint");
    let e = &endpoints[0];
    ScrapeEndpoint {
        port: string(&e["port"], "port"),
        path: optional_string(&e["path"]).unwrap_or_else(|| "/metrics".into()),
        scheme: optional_string(&e["scheme"]).unwrap_or_else(|| "http".into()),
        interval: seconds(&e["interval"], "interval"),
        timeout: seconds(&e["scrapeTimeout"], "scrapeTimeout"),
    }
}

/// One entry of the adapter chart's `rules.custom`.
#[derive(Debug, Clone)]
pub struct AdapterRule {
    pub series_query: String,
    /// `resources.overrides`: (series label, Kubernetes resource).
    pub overrides: Vec<(String, String)>,
    pub name_matches: Option<String>,
    pub name_as: Option<String>,
    pub metrics_query: String,
}

/// `rules.default` and `rules.custom` of deploy/prometheus-adapter-values.yaml.
pub fn adapter_rules() -> (bool, Vec<AdapterRule>) {
    let values = load("prometheus-adapter-values.yaml");
    let rules = &values["rules"];
    let default = rules["default"].as_bool().expect("rules.default is set explicitly");
    let custom = rules["custom"].as_vec().expect("rules.custom");
    let parsed = custom
        .iter()
        .map(|r| AdapterRule {
            series_query: string(&r["seriesQuery"], "seriesQuery"),
            overrides: r["resources"]["overrides"]
                .as_hash()
                .map(|h| {
                    h.iter()
                        .map(|(label, target)| (string(label, "label"), string(&target["resource"], "resource")))
                        .collect()
                })
                .unwrap_or_default(),
            name_matches: optional_string(&r["name"]["matches"]),
            name_as: optional_string(&r["name"]["as"]),
            metrics_query: string(&r["metricsQuery"], "metricsQuery"),
        })
        .collect();
    (default, parsed)
}

/// One `type: Pods` metric of the HPA with an `AverageValue` target.
#[derive(Debug, Clone)]
pub struct PodsTarget {
    pub metric: String,
    /// A Kubernetes quantity, as written ("500", "80", "500m").
    pub average_value: String,
}

#[derive(Debug, Clone)]
pub struct Hpa {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub targets: Vec<PodsTarget>,
    /// `spec.behavior`, the API's defaults where a field is absent.
    pub behavior: Behavior,
}

/// An HPA's `behavior` (also KEDA's
/// `advanced.horizontalPodAutoscalerConfig.behavior`), absent fields defaulted.
pub fn behavior(y: &Yaml) -> Behavior {
    Behavior {
        scale_up: scaling_rules(&y["scaleUp"], Rules::default_scale_up()),
        scale_down: scaling_rules(&y["scaleDown"], Rules::default_scale_down()),
    }
}

/// `scaleUp` or `scaleDown` of `spec.behavior` over `defaults`.
fn scaling_rules(y: &Yaml, defaults: Rules) -> Rules {
    if y.is_badvalue() || y.is_null() {
        return defaults;
    }
    let select = match optional_string(&y["selectPolicy"]).as_deref() {
        None | Some("Max") => Select::Max,
        Some("Min") => Select::Min,
        Some("Disabled") => Select::Disabled,
        Some(other) => panic!("selectPolicy {other:?}"),
    };
    let policies = match y["policies"].as_vec() {
        None => defaults.policies,
        Some(list) => list
            .iter()
            .map(|p| Policy {
                kind: match string(&p["type"], "policy type").as_str() {
                    "Pods" => PolicyKind::Pods,
                    "Percent" => PolicyKind::Percent,
                    other => panic!("policy type {other:?}"),
                },
                value: u32::try_from(p["value"].as_i64().expect("policy value")).unwrap(),
                period_seconds: p["periodSeconds"].as_i64().expect("periodSeconds") as f64,
            })
            .collect(),
    };
    Rules {
        stabilization_seconds: y["stabilizationWindowSeconds"]
            .as_i64()
            .map_or(defaults.stabilization_seconds, |s| s as f64),
        select,
        policies,
    }
}

pub fn hpa() -> Hpa {
    let hpa = load("base/hpa.yaml");
    assert_eq!(string(&hpa["apiVersion"], "apiVersion"), "autoscaling/v2");
    let spec = &hpa["spec"];
    let count = |k: &str| u32::try_from(spec[k].as_i64().unwrap_or_else(|| panic!("spec.{k}"))).unwrap();
    let targets = spec["metrics"]
        .as_vec()
        .expect("spec.metrics")
        .iter()
        .map(|m| {
            assert_eq!(
                string(&m["type"], "type"),
                "Pods",
                "only Pods metrics are modelled here"
            );
            let target = &m["pods"]["target"];
            assert_eq!(string(&target["type"], "target.type"), "AverageValue");
            PodsTarget {
                metric: string(&m["pods"]["metric"]["name"], "metric.name"),
                average_value: string(&target["averageValue"], "averageValue"),
            }
        })
        .collect();
    Hpa {
        // minReplicas defaults to 1 when absent.
        min_replicas: if spec["minReplicas"].is_badvalue() {
            1
        } else {
            count("minReplicas")
        },
        max_replicas: count("maxReplicas"),
        targets,
        behavior: behavior(&spec["behavior"]),
    }
}

/// The expression of the PrometheusRule's alert `name`.
pub fn alert_expr(name: &str) -> String {
    let rule = load("base/prometheusrule.yaml");
    assert_eq!(string(&rule["kind"], "kind"), "PrometheusRule");
    rule["spec"]["groups"]
        .as_vec()
        .expect("spec.groups")
        .iter()
        .flat_map(|g| g["rules"].as_vec().expect("rules").iter())
        .find(|r| optional_string(&r["alert"]).as_deref() == Some(name))
        .map(|r| string(&r["expr"], "expr"))
        .unwrap_or_else(|| panic!("no alert {name} in base/prometheusrule.yaml"))
}

/// An HTTP probe of the app container (`httpGet`, Kubernetes' defaults).
#[derive(Debug, Clone)]
pub struct Probe {
    pub path: String,
    pub period_seconds: f64,
    pub timeout_seconds: f64,
    pub failure_threshold: u32,
}

/// What the lab's "kubelet" honours of the Deployment's pod template.
#[derive(Debug, Clone)]
pub struct PodTemplate {
    /// The app container's `env` (literal values).
    pub env: Vec<(String, String)>,
    pub startup: Option<Probe>,
    pub readiness: Probe,
    /// `lifecycle.preStop.sleep.seconds` (0 without one).
    pub pre_stop_seconds: f64,
    pub grace_seconds: f64,
}

fn probe(y: &Yaml) -> Option<Probe> {
    if y.is_badvalue() {
        return None;
    }
    let or = |k: &str, default: i64| y[k].as_i64().unwrap_or(default);
    Some(Probe {
        path: string(&y["httpGet"]["path"], "probe httpGet.path"),
        period_seconds: or("periodSeconds", 10) as f64,
        timeout_seconds: or("timeoutSeconds", 1) as f64,
        failure_threshold: u32::try_from(or("failureThreshold", 3)).unwrap(),
    })
}

pub fn deployment() -> PodTemplate {
    let d = load("base/deployment.yaml");
    assert_eq!(string(&d["kind"], "kind"), "Deployment");
    let pod = &d["spec"]["template"]["spec"];
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    let c = &containers[0];
    let env = c["env"]
        .as_vec()
        .map(|list| {
            list.iter()
                .map(|e| (string(&e["name"], "env name"), string(&e["value"], "env value")))
                .collect()
        })
        .unwrap_or_default();
    PodTemplate {
        env,
        startup: probe(&c["startupProbe"]),
        readiness: probe(&c["readinessProbe"]).expect("a readinessProbe"),
        pre_stop_seconds: c["lifecycle"]["preStop"]["sleep"]["seconds"].as_i64().unwrap_or(0) as f64,
        grace_seconds: pod["terminationGracePeriodSeconds"].as_i64().unwrap_or(30) as f64,
    }
}

/// The `--stages` argument of the staged load Job in deploy/loadgen.
pub fn stages_job_profile() -> String {
    let job = load("loadgen/stages-job.yaml");
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .expect("containers");
    containers[0]["args"]
        .as_vec()
        .expect("args")
        .iter()
        .find_map(|a| a.as_str().and_then(|s| s.strip_prefix("--stages=")))
        .expect("a --stages= argument")
        .to_owned()
}
