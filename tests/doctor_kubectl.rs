//! `doctor`'s cluster checks through a stand-in `kubectl` on `PATH` that
//! replays recorded `kubectl ... -o json` outputs (tests/kubectl_recorded/,
//! written by hand in kubectl's shape: no API server runs here). The healthy
//! cluster runs against a real Prometheus scraping the real app, so every
//! check passes and doctor exits 0; each broken case is caught by its check
//! with its fix.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::prometheus::Prometheus;
use common::{free_port, http10_get, require_tool, spawn_binary};

const RECORDED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kubectl_recorded");
const QPS: &str = "get --raw /apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/qps";

/// A directory (first on `PATH`, before the system's) holding a `kubectl` that prints the file recorded for its
/// command line and fails like the real one (NotFound) for any other.
struct StandIn(PathBuf);

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The commands doctor runs against a healthy adapter-route cluster.
fn healthy_adapter() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        (
            "get servicemonitor custom-metrics-app -n default -o json",
            "servicemonitor.json",
        ),
        (
            "get prometheusrule custom-metrics-app -n default -o json",
            "prometheusrule.json",
        ),
        ("get prometheus -A -o json", "prometheus-list.json"),
        (
            "get configmap -A -l app.kubernetes.io/name=prometheus-adapter -o json",
            "configmap-adapter.json",
        ),
        (
            "get apiservice v1beta1.custom.metrics.k8s.io -o json",
            "apiservice-available.json",
        ),
        (QPS, "raw-qps.json"),
        ("get hpa custom-metrics-app -n default -o json", "hpa.json"),
    ])
}

fn stand_in(replies: &BTreeMap<&str, &str>) -> StandIn {
    let dir = std::env::temp_dir().join(format!("cma-kubectl-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut script = String::from("#!/bin/sh\ncase \"$*\" in\n");
    for (args, file) in replies {
        script += &format!("  '{args}') cat '{RECORDED}/{file}' ;;\n");
    }
    script += "  *) echo \"Error from server (NotFound): the server could not find the requested resource ($*)\" >&2; exit 1 ;;\nesac\n";
    let path = dir.join("kubectl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    StandIn(dir)
}

fn doctor(kubectl: &StandIn, prometheus: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let run = |output: &str| {
        Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
            .args(["doctor", "--prometheus", prometheus, "--output", output])
            .args(["--deploy", concat!(env!("CARGO_MANIFEST_DIR"), "/deploy")])
            .args(extra)
            .env("PATH", format!("{}:/usr/bin:/bin", kubectl.0.display()))
            .output()
            .unwrap()
    };
    let text = String::from_utf8_lossy(&run("text").stdout).into_owned();
    println!("{text}");
    let json = run("json");
    (
        json.status.code().unwrap(),
        serde_json::from_slice(&json.stdout).expect("JSON report"),
        text,
    )
}

/// (verdict, evidence, fix) of the check whose name starts with `prefix`.
fn check<'a>(report: &'a serde_json::Value, prefix: &str) -> (&'a str, &'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no check {prefix}: {report}"));
    (
        c["verdict"].as_str().unwrap(),
        c["evidence"].as_str().unwrap(),
        c["fix"].as_str().unwrap_or(""),
    )
}

/// Nothing listens here: the Prometheus checks fail, the cluster checks
/// are judged on kubectl's answers alone.
fn no_prometheus() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

#[test]
fn healthy_cluster_passes_every_check() {
    if !require_tool("prometheus") {
        return;
    }
    let (child, addr) = spawn_binary(&[]);
    let _app = KillOnDrop(child);
    for _ in 0..5 {
        http10_get(addr, "/").expect("app answers");
    }
    let p = Prometheus::start(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: custom-metrics-app\n    static_configs:\n      - targets: ['{addr}']\n        labels: {{namespace: default, pod: custom-metrics-app-7d9c8b6f5-2xk8p}}\n"
    ));
    p.wait_for("qps rate", Duration::from_secs(30), |p| {
        !p.query("rate(total_req_num{api=\"/\"}[1m])", None).is_empty()
    });
    let kubectl = stand_in(&healthy_adapter());
    let (code, report, text) = doctor(
        &kubectl,
        &format!("http://{}", p.addr),
        &["--app", &format!("http://{addr}")],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "passed"),
        "{text}"
    );
    // The window came from the adapter's ConfigMap (2m there), not deploy/.
    let (_, evidence, _) = check(&report, "rate window");
    assert!(
        evidence.contains("configmap monitoring/prometheus-adapter [2m]"),
        "{text}"
    );
    let (_, evidence, _) = check(&report, "metrics APIService");
    assert!(evidence.contains("Service monitoring/prometheus-adapter"), "{text}");
    // Quantities in plain numbers: 1500m is 1.5.
    let (_, evidence, _) = check(&report, "metrics API returns");
    assert!(
        evidence.contains("custom-metrics-app-7d9c8b6f5-2xk8p=1.5 (1500m)"),
        "{text}"
    );
    let (_, evidence, _) = check(&report, "HPA can scale");
    assert!(
        evidence.contains("qps current 525 / target 500 = 1.05 (within the 10 % tolerance: no change)"),
        "{text}"
    );
    assert!(evidence.contains("cpuTemperature current 50.5 / target 80"), "{text}");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn servicemonitor_without_the_release_label_gets_the_label_to_set() {
    let mut replies = healthy_adapter();
    replies.insert(
        "get servicemonitor custom-metrics-app -n default -o json",
        "servicemonitor-no-release.json",
    );
    let kubectl = stand_in(&replies);
    let (code, report, text) = doctor(&kubectl, &no_prometheus(), &[]);
    assert_eq!(code, 1, "{text}");
    let (verdict, _, fix) = check(&report, "Prometheus selects");
    assert_eq!(verdict, "failed", "{text}");
    assert!(
        fix.starts_with("kubectl -n default label servicemonitor custom-metrics-app release=kube-prometheus-stack"),
        "{text}"
    );
    // With the label, the same Prometheus selects it.
    let kubectl = stand_in(&healthy_adapter());
    let (_, report, text) = doctor(&kubectl, &no_prometheus(), &[]);
    assert_eq!(check(&report, "Prometheus selects").0, "passed", "{text}");
}

#[test]
fn apiservice_failing_discovery_is_caught() {
    let mut replies = healthy_adapter();
    replies.insert(
        "get apiservice v1beta1.custom.metrics.k8s.io -o json",
        "apiservice-failed.json",
    );
    let kubectl = stand_in(&replies);
    let (code, report, text) = doctor(&kubectl, &no_prometheus(), &[]);
    assert_eq!(code, 1, "{text}");
    let (verdict, evidence, fix) = check(&report, "metrics APIService");
    assert_eq!(verdict, "failed", "{text}");
    assert!(
        evidence.contains("Available=False FailedDiscoveryCheck") && evidence.contains("monitoring/prometheus-adapter"),
        "{text}"
    );
    assert!(
        fix.contains("cannot reach Service monitoring/prometheus-adapter"),
        "{text}"
    );
}

#[test]
fn empty_metrics_api_and_hpa_without_its_metric_are_caught() {
    let mut replies = healthy_adapter();
    replies.insert(QPS, "raw-qps-empty.json");
    replies.insert(
        "get hpa custom-metrics-app -n default -o json",
        "hpa-failed-metric.json",
    );
    let kubectl = stand_in(&replies);
    let (code, report, text) = doctor(&kubectl, &no_prometheus(), &[]);
    assert_eq!(code, 1, "{text}");
    let (verdict, _, _) = check(&report, "metrics API returns");
    assert_eq!(verdict, "failed", "{text}");
    let (verdict, evidence, fix) = check(&report, "HPA can scale");
    assert_eq!(verdict, "failed", "{text}");
    assert!(evidence.contains("ScalingActive=False FailedGetPodsMetric"), "{text}");
    assert!(evidence.contains("qps current <unknown> / target 500"), "{text}");
    assert!(fix.contains("metrics API returns items"), "{text}");
}

#[test]
fn keda_route_reads_the_scaledobject_and_the_external_api() {
    let kubectl = stand_in(&BTreeMap::from([
        ("get scaledobject custom-metrics-app -n default -o json", "scaledobject.json"),
        ("get apiservice v1beta1.external.metrics.k8s.io -o json", "apiservice-external.json"),
        ("get hpa custom-metrics-app -n default -o json", "hpa-keda.json"),
        (
            "get --raw /apis/external.metrics.k8s.io/v1beta1/namespaces/default/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3Dcustom-metrics-app",
            "raw-external.json",
        ),
    ]));
    let (_, report, text) = doctor(&kubectl, &no_prometheus(), &["--route", "keda"]);
    let (verdict, evidence, _) = check(&report, "metrics APIService");
    assert_eq!(verdict, "passed", "{text}");
    assert!(
        evidence.contains("v1beta1.external.metrics.k8s.io backed by Service keda/keda-operator-metrics-apiserver"),
        "{text}"
    );
    assert_eq!(check(&report, "metrics API returns").0, "passed", "{text}");
    let (verdict, evidence, _) = check(&report, "HPA can scale");
    assert_eq!(verdict, "passed", "{text}");
    assert!(
        evidence.contains("s0-prometheus current 633.334 / target 500 = 1.27 (above: scales up)"),
        "{text}"
    );
    // The queries are the cluster's ScaledObject's, sent to Prometheus as written.
    let (_, evidence, _) = check(&report, "route queries");
    assert!(
        evidence.contains("sum(rate(total_req_num{namespace=\"default\""),
        "{text}"
    );
}

#[test]
fn kubectl_that_reaches_no_cluster_skips_with_the_command() {
    let dir = std::env::temp_dir().join(format!("cma-kubectl-down-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubectl");
    std::fs::write(
        &path,
        "#!/bin/sh\necho 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kubectl = StandIn(dir);
    let (_, report, text) = doctor(&kubectl, &no_prometheus(), &[]);
    let (verdict, evidence, instead) = check(&report, "metrics APIService");
    assert_eq!(verdict, "skipped", "{text}");
    assert!(evidence.contains("connection to the server"), "{text}");
    assert_eq!(instead, "kubectl get apiservice v1beta1.custom.metrics.k8s.io -o wide");
}
