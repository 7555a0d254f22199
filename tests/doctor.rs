//! `custom-metrics-app doctor` against a real Prometheus (Debian's package)
//! scraping the real app on loopback: the healthy set-up passes every check
//! that can run here; each broken set-up is caught by the right check with
//! the right fix. Exit 0 healthy, 1 on a failed check, 2 on bad flags.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::prometheus::Prometheus;
use common::{free_port, http10_get, require_tool, spawn_binary};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs doctor twice (text, then JSON) with no `kubectl` on PATH: the
/// cluster checks are skipped (tests/doctor_kubectl.rs covers them).
fn doctor(args: &[&str]) -> (i32, serde_json::Value, String) {
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
            .arg("doctor")
            .args(["--deploy", concat!(env!("CARGO_MANIFEST_DIR"), "/deploy")])
            .args(args)
            .args(extra)
            .env("PATH", "/nonexistent")
            .output()
            .unwrap()
    };
    let text = String::from_utf8_lossy(&run(&[]).stdout).into_owned();
    println!("{text}");
    let json: Output = run(&["--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    (json.status.code().unwrap(), v, text)
}

/// The verdict and fix of the check whose name starts with `prefix`.
fn verdict<'a>(report: &'a serde_json::Value, prefix: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no check {prefix}: {report}"));
    (c["verdict"].as_str().unwrap(), c["fix"].as_str().unwrap_or(""))
}

/// A Prometheus config scraping `target` as `job`, every `interval`, with
/// the namespace/pod labels a ServiceMonitor would add when `labels`.
fn config(target: &str, job: &str, interval: &str, labels: bool) -> String {
    let labels = if labels {
        "\n        labels: {namespace: default, pod: custom-metrics-app-0}"
    } else {
        ""
    };
    format!(
        "global:\n  scrape_interval: {interval}\nscrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']{labels}\n"
    )
}

/// The app, some load on `/` (the qps rule leaves scrapes out), and a
/// Prometheus scraping it; waits until the qps rate has two samples.
fn set_up(job: &str, interval: &str, labels: bool, wait_rate: bool) -> Option<(Killed, Prometheus, String)> {
    if !require_tool("prometheus") {
        return None;
    }
    let (child, addr) = spawn_binary(&[]);
    let app = Killed(child);
    for _ in 0..5 {
        http10_get(addr, "/").expect("app answers");
    }
    let p = Prometheus::start(&config(&addr.to_string(), job, interval, labels));
    if wait_rate {
        p.wait_for("rate has two samples", Duration::from_secs(30), |p| {
            !p.query(&format!("rate(total_req_num{{job=\"{job}\",api=\"/\"}}[1m])"), None)
                .is_empty()
        });
    } else {
        // Listed before its first scrape, which a 60 s interval may put a minute away.
        p.wait_for("target listed", Duration::from_secs(30), |p| {
            http10_get(p.addr, "/api/v1/targets?state=active")
                .is_some_and(|(_, body)| String::from_utf8_lossy(&body).contains(&format!("\"job\":\"{job}\"")))
        });
    }
    Some((app, p, format!("http://{addr}")))
}

#[test]
fn healthy_set_up_passes() {
    let Some((_app, p, app)) = set_up("custom-metrics-app", "1s", true, true) else {
        return;
    };
    let prom = format!("http://{}", p.addr);
    let (code, report, text) = doctor(&["--prometheus", &prom, "--app", &app]);
    assert_eq!(code, 0, "{text}");
    for name in [
        "app exports",
        "Prometheus scrapes",
        "series carry",
        "rate window",
        "route queries",
    ] {
        assert_eq!(verdict(&report, name).0, "passed", "{name}: {text}");
    }
    for name in [
        "Prometheus selects",
        "metrics APIService",
        "metrics API returns",
        "HPA can scale",
    ] {
        assert_eq!(verdict(&report, name).0, "skipped", "{name} without kubectl: {text}");
    }
    assert!(
        text.contains("instead: kubectl get apiservice v1beta1.custom.metrics.k8s.io"),
        "{text}"
    );
    assert!(
        text.contains("custom-metrics-app-0="),
        "the per-pod values are shown: {text}"
    );
    let (code, report, text) = doctor(&["--prometheus", &prom, "--app", &app, "--route", "keda"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(verdict(&report, "route queries").0, "passed", "{text}");
}

#[test]
fn app_down_fails_the_app_and_target_checks() {
    let Some((app_proc, p, app)) = set_up("custom-metrics-app", "1s", true, false) else {
        return;
    };
    drop(app_proc);
    p.wait_for("target down", Duration::from_secs(30), |p| {
        p.query("up{job=\"custom-metrics-app\"}", None)
            .first()
            .is_some_and(|s| s.1 == 0.0)
    });
    let (code, report, text) = doctor(&["--prometheus", &format!("http://{}", p.addr), "--app", &app]);
    assert_eq!(code, 1, "{text}");
    let (v, fix) = verdict(&report, "app exports");
    assert_eq!(v, "failed", "{text}");
    assert!(fix.contains("start the app"), "{text}");
    let (v, fix) = verdict(&report, "Prometheus scrapes");
    assert_eq!(v, "failed", "{text}");
    assert!(fix.contains("answer /metrics"), "{text}");
}

#[test]
fn missing_namespace_and_pod_labels_are_caught() {
    let Some((_app, p, app)) = set_up("custom-metrics-app", "1s", false, true) else {
        return;
    };
    let (code, report, text) = doctor(&["--prometheus", &format!("http://{}", p.addr), "--app", &app]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(verdict(&report, "Prometheus scrapes").0, "passed", "{text}");
    let (v, fix) = verdict(&report, "series carry");
    assert_eq!(v, "failed", "{text}");
    assert!(fix.contains("ServiceMonitor"), "{text}");
    assert_eq!(verdict(&report, "route queries").0, "failed", "{text}");
}

#[test]
fn a_60s_scrape_interval_under_a_1m_window_is_caught() {
    let Some((_app, p, app)) = set_up("custom-metrics-app", "60s", true, false) else {
        return;
    };
    let (code, report, text) = doctor(&["--prometheus", &format!("http://{}", p.addr), "--app", &app]);
    assert_eq!(code, 1, "{text}");
    let (v, fix) = verdict(&report, "rate window");
    assert_eq!(v, "failed", "{text}");
    assert!(
        fix.contains("interval to 15s or less, or widen the window to [4m]"),
        "{text}"
    );
}

#[test]
fn the_wrong_job_is_named() {
    let Some((_app, p, app)) = set_up("my-app", "1s", true, false) else {
        return;
    };
    let (code, report, text) = doctor(&["--prometheus", &format!("http://{}", p.addr), "--app", &app]);
    assert_eq!(code, 1, "{text}");
    let (v, fix) = verdict(&report, "Prometheus scrapes");
    assert_eq!(v, "failed", "{text}");
    assert!(text.contains("job=\"my-app\""), "{text}");
    assert!(fix.contains("job=\"custom-metrics-app\""), "{text}");
}

#[test]
fn an_app_without_the_metrics_is_caught() {
    // Prometheus itself stands in for an app that exports neither metric.
    if !require_tool("prometheus") {
        return;
    }
    let p = Prometheus::start("global:\n  scrape_interval: 1s\nscrape_configs: []\n");
    let prom = format!("http://{}", p.addr);
    let (code, report, text) = doctor(&["--prometheus", &prom, "--app", &prom]);
    assert_eq!(code, 1, "{text}");
    let (v, fix) = verdict(&report, "app exports");
    assert_eq!(v, "failed", "{text}");
    assert!(
        text.contains("total_req_num") && fix.contains("custom-metrics-app image"),
        "{text}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args([
            "doctor",
            "--route",
            "nope",
            "--prometheus",
            &format!("http://127.0.0.1:{}", free_port()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_keda_query_returning_two_samples_is_caught() {
    if !require_tool("prometheus") {
        return;
    }
    let (child, addr) = spawn_binary(&[]);
    let _app = Killed(child);
    for _ in 0..5 {
        http10_get(addr, "/").expect("app answers");
    }
    // Two pods: the same app scraped under two pod labels.
    let p = Prometheus::start(&format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: custom-metrics-app\n    static_configs:\n      - targets: ['{addr}']\n        labels: {{namespace: default, pod: a}}\n      - targets: ['{addr}']\n        labels: {{namespace: default, pod: b}}\n"
    ));
    p.wait_for("both pods' rates", Duration::from_secs(30), |p| {
        p.query("rate(total_req_num{api=\"/\"}[1m])", None).len() == 2
    });
    // The overlay's qps trigger without its sum(): one sample per pod.
    let dir = std::env::temp_dir().join(format!("cma-doctor-deploy-{}", free_port()));
    std::fs::create_dir_all(dir.join("overlays/keda")).unwrap();
    let overlay = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/overlays/keda/scaledobject.yaml"
    ))
    .unwrap()
    .replace("query: 'sum(rate(total_req_num", "query: '(rate(total_req_num");
    assert!(
        overlay.contains("query: '(rate("),
        "the overlay's qps query starts with sum(rate("
    );
    std::fs::write(dir.join("overlays/keda/scaledobject.yaml"), overlay).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args([
            "doctor",
            "--prometheus",
            &format!("http://{}", p.addr),
            "--route",
            "keda",
            "--output",
            "json",
        ])
        .args(["--deploy", dir.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{report}");
    let (v, fix) = verdict(&report, "route queries");
    assert_eq!(v, "failed", "{report}");
    assert!(fix.contains("exactly one sample") && fix.contains("sum("), "{report}");
    let c = &report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verdict"] == "failed")
        .unwrap()["evidence"];
    let evidence = c.as_str().unwrap();
    assert!(
        evidence.contains("a=") && evidence.contains("b=") && !evidence.contains("-> 1 sample(s)"),
        "{report}"
    );
    // The overlay as shipped sums them: one sample.
    let (code, report, text) = doctor(&["--prometheus", &format!("http://{}", p.addr), "--route", "keda"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(verdict(&report, "route queries").0, "passed", "{text}");
}
