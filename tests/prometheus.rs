//! A real Prometheus (Debian's package) scrapes the real binary; the values
//! it stored are read back through its HTTP API. `promtool` lints the body.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::prometheus::Prometheus;
use common::{require_tool, spawn_binary, Client};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prometheus scraping each (job, target) every second.
fn start_prometheus(jobs: &[(&str, SocketAddr)]) -> Prometheus {
    let mut yaml = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (job, target) in jobs {
        yaml += &format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n");
    }
    Prometheus::start(&yaml)
}

#[test]
fn prometheus_ingests_the_seed_metrics() {
    if !require_tool("prometheus") {
        return;
    }
    let (app, addr) = spawn_binary(&["--workers", "2"]);
    let _app = Killed(app);
    let mut c = Client::connect(addr);
    for _ in 0..5 {
        assert_eq!(c.get("/").status, 200);
    }
    c.get("/cpuTempUp");
    c.get("/cpuTempUp");
    c.get("/cpuTempDown");
    c.request("PUT", "/cpuTempDown");
    drop(c);

    let prom = start_prometheus(&[("app", addr)]);
    let labels = prom.wait_for_value("total_req_num{api=\"/\"}", 5.0);
    assert_eq!(labels["status"], "200");
    assert_eq!(labels["job"], "app");
    prom.wait_for_value("total_req_num{api=\"cpuTempUp\",status=\"200\"}", 2.0);
    prom.wait_for_value("total_req_num{api=\"cpuTempDown\",status=\"405\"}", 1.0);
    prom.wait_for_value("cpu_temperature_celsius", 60.0);
    // Prometheus's own scrapes are counted too, under api="metrics".
    let start = Instant::now();
    while prom.query("total_req_num{api=\"metrics\"} > 0", None).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "scrapes never counted");
        std::thread::sleep(Duration::from_millis(250));
    }
    let up = prom.query("up", None);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].1, 1.0);
}

#[test]
fn promtool_only_lints_the_seed_counter_name() {
    if !require_tool("promtool") {
        return;
    }
    let (app, addr) = spawn_binary(&["--workers", "1"]);
    let _app = Killed(app);
    let mut c = Client::connect(addr);
    c.get("/");
    c.request("DELETE", "/");
    c.get("/cpuTempUp");
    let body = c.get("/metrics").body;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let problems: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        !problems.is_empty(),
        "promtool parsed the body and reported the known lint"
    );
    for line in &problems {
        assert!(
            line.contains("total_req_num counter metrics should have \"_total\" suffix"),
            "unexpected promtool complaint: {line}"
        );
    }
}

/// The same scripted requests against one server with OpenMetrics on and one
/// with it off, scraped by the same Prometheus: the stored series names and
/// the scripted values must not depend on the format.
#[test]
fn openmetrics_and_text_store_the_same_series() {
    if !require_tool("prometheus") {
        return;
    }
    let (om_child, om) = spawn_binary(&["--workers", "1"]);
    let (text_child, text) = spawn_binary(&["--workers", "1", "--no-openmetrics"]);
    let (_om_child, _text_child) = (Killed(om_child), Killed(text_child));
    for addr in [om, text] {
        let mut c = Client::connect(addr);
        for _ in 0..4 {
            c.get("/");
        }
        c.get("/cpuTempUp");
        c.request("PUT", "/");
    }
    // Load that keeps going while Prometheus scrapes, so rate() has data.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = Client::connect(om);
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 20_000 {
                assert_eq!(c.get("/load").status, 200);
                sent += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            sent
        })
    };
    let prom = start_prometheus(&[("om", om), ("text", text)]);
    for job in ["om", "text"] {
        prom.wait_for_value(&format!("total_req_num{{job=\"{job}\",api=\"/\",status=\"405\"}}"), 1.0);
        prom.wait_for_value(&format!("total_req_num{{job=\"{job}\",api=\"cpuTempUp\"}}"), 1.0);
        prom.wait_for_value(&format!("cpu_temperature_celsius{{job=\"{job}\"}}"), 60.0);
    }
    prom.wait_for_value("total_req_num{job=\"text\",api=\"/\",status=\"200\"}", 4.0);
    prom.wait_for_value("http_request_duration_seconds_count{job=\"text\",api=\"/\"}", 5.0);
    let names = |job: &str| -> Vec<String> {
        let mut v: Vec<String> = prom
            .query(&format!("count by (__name__) ({{job=\"{job}\"}})"), None)
            .into_iter()
            .map(|(m, _)| m["__name__"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let om_names = names("om");
    assert_eq!(om_names, names("text"));
    for name in [
        "total_req_num",
        "cpu_temperature_celsius",
        "http_request_duration_seconds_bucket",
        "process_cpu_seconds_total",
    ] {
        assert!(om_names.iter().any(|n| n == name), "{name} stored: {om_names:?}");
    }
    assert!(
        !om_names.iter().any(|n| n == "total_req_num_total"),
        "no OpenMetrics renaming: {om_names:?}"
    );

    // A latency quantile from the histogram, over the live load.
    let start = Instant::now();
    let p99 = loop {
        let r = prom.query("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"om\",api=\"/\"}[5s])))", None);
        if let Some((_, v)) = r.first().filter(|(_, v)| v.is_finite()) {
            break *v;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no finite p99: {r:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(p99 > 0.0 && p99 <= 0.1, "p99 {p99} s within the buckets");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(load.join().unwrap() > 0);
}
