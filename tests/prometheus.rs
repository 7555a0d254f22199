//! A real Prometheus (Debian's package) scrapes the real binary; the values
//! it stored are read back through its HTTP API. `promtool` lints the body.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, require_tool, spawn_binary, Client};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cma-{tag}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts Prometheus on a free loopback port scraping `target` every second.
fn start_prometheus(target: std::net::SocketAddr, dir: &std::path::Path) -> (Killed, std::net::SocketAddr) {
    start_prometheus_jobs(&[("app", target)], dir)
}

/// Starts Prometheus on a free loopback port with one job per (name, target).
fn start_prometheus_jobs(
    jobs: &[(&str, std::net::SocketAddr)],
    dir: &std::path::Path,
) -> (Killed, std::net::SocketAddr) {
    let port = free_port();
    let config = dir.join("prometheus.yml");
    let mut yaml = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (job, target) in jobs {
        yaml += &format!("  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n");
    }
    std::fs::write(&config, yaml).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("start prometheus");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    loop {
        if let Ok(s) = std::net::TcpStream::connect(addr) {
            drop(s);
            if Client::connect(addr).get("/-/ready").status == 200 {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "prometheus did not become ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (Killed(child), addr)
}

fn query(prom: std::net::SocketAddr, promql: &str) -> Vec<(serde_json::Value, f64)> {
    let encoded: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_-.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let r = Client::connect(prom).get(&format!("/api/v1/query?query={encoded}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["metric"].clone(), s["value"][1].as_str().unwrap().parse().unwrap()))
        .collect()
}

/// Polls `promql` until its single result equals `want` (bounded).
fn wait_for_value(prom: std::net::SocketAddr, promql: &str, want: f64) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let r = query(prom, promql);
        if r.len() == 1 && r[0].1 == want {
            return r[0].0.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{promql}: wanted {want}, last result {r:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
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

    let dir = temp_dir("prom");
    let (_prom, prom) = start_prometheus(addr, &dir);
    let labels = wait_for_value(prom, "total_req_num{api=\"/\"}", 5.0);
    assert_eq!(labels["status"], "200");
    assert_eq!(labels["job"], "app");
    wait_for_value(prom, "total_req_num{api=\"cpuTempUp\",status=\"200\"}", 2.0);
    wait_for_value(prom, "total_req_num{api=\"cpuTempDown\",status=\"405\"}", 1.0);
    wait_for_value(prom, "cpu_temperature_celsius", 60.0);
    // Prometheus's own scrapes are counted too, under api="metrics".
    let start = Instant::now();
    while query(prom, "total_req_num{api=\"metrics\"} > 0").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "scrapes never counted");
        std::thread::sleep(Duration::from_millis(250));
    }
    let up = query(prom, "up");
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].1, 1.0);
    let _ = std::fs::remove_dir_all(&dir);
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
    let dir = temp_dir("prom-formats");
    let (_prom, prom) = start_prometheus_jobs(&[("om", om), ("text", text)], &dir);
    for job in ["om", "text"] {
        wait_for_value(
            prom,
            &format!("total_req_num{{job=\"{job}\",api=\"/\",status=\"405\"}}"),
            1.0,
        );
        wait_for_value(prom, &format!("total_req_num{{job=\"{job}\",api=\"cpuTempUp\"}}"), 1.0);
        wait_for_value(prom, &format!("cpu_temperature_celsius{{job=\"{job}\"}}"), 60.0);
    }
    wait_for_value(prom, "total_req_num{job=\"text\",api=\"/\",status=\"200\"}", 4.0);
    wait_for_value(prom, "http_request_duration_seconds_count{job=\"text\",api=\"/\"}", 5.0);
    let names = |job: &str| -> Vec<String> {
        let mut v: Vec<String> = query(prom, &format!("count by (__name__) ({{job=\"{job}\"}})"))
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
        let r = query(
            prom,
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"om\",api=\"/\"}[5s])))",
        );
        if let Some((_, v)) = r.first().filter(|(_, v)| v.is_finite()) {
            break *v;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no finite p99: {r:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(p99 > 0.0 && p99 <= 0.1, "p99 {p99} s within the buckets");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(load.join().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
