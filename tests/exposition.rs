//! Both exposition formats over real sockets: negotiation, the switch that
//! turns OpenMetrics off, and a strict OpenMetrics parse by the reference
//! Python parser (`prometheus_client`).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{sample, spawn_binary, Client, TestServer};

const PROMETHEUS_ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;\
                                 q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

fn scrape(c: &mut Client, accept: Option<&str>) -> common::Response {
    let accept = accept.map(|a| format!("Accept: {a}\r\n")).unwrap_or_default();
    c.send(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{accept}\r\n").as_bytes());
    c.read_response(false)
}

#[test]
fn negotiates_the_format() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let om = scrape(&mut c, Some(PROMETHEUS_ACCEPT));
    assert_eq!(
        om.header("Content-Type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.text().ends_with("# EOF\n"));
    assert!(om.text().contains("# TYPE total_req_num unknown\n"));
    assert!(om.text().contains("# TYPE process_cpu_seconds counter\n"));
    for accept in [None, Some("text/plain"), Some("*/*"), Some("application/json")] {
        let text = scrape(&mut c, accept);
        assert_eq!(
            text.header("Content-Type"),
            Some("text/plain; version=0.0.4; charset=utf-8"),
            "{accept:?}"
        );
        assert!(!text.text().contains("# EOF"));
        assert!(text.text().contains("# TYPE total_req_num counter\n"));
    }
}

#[test]
fn openmetrics_can_be_turned_off() {
    let (mut child, addr) = spawn_binary(&["--workers", "1", "--no-openmetrics"]);
    let r = scrape(&mut Client::connect(addr), Some(PROMETHEUS_ACCEPT));
    assert_eq!(
        r.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn both_formats_carry_the_same_samples() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    for path in ["/", "/", "/cpuTempUp", "/nowhere"] {
        c.get(path);
    }
    c.request("PATCH", "/");
    // Two scrapes back to back; the second one sees the first one counted.
    let om = scrape(&mut c, Some(PROMETHEUS_ACCEPT)).text().to_owned();
    let text = scrape(&mut c, None).text().to_owned();
    for series in [
        "total_req_num{status=\"200\",api=\"/\"}",
        "total_req_num{status=\"405\",api=\"/\"}",
        "cpu_temperature_celsius",
        "http_request_duration_seconds_count{api=\"/\"}",
        "http_request_duration_seconds_bucket{api=\"cpuTempUp\",le=\"+Inf\"}",
    ] {
        assert!(sample(&om, series).is_some(), "{series} in OpenMetrics");
        assert_eq!(sample(&om, series), sample(&text, series), "{series}");
    }
    assert_eq!(sample(&text, "total_req_num{status=\"200\",api=\"/\"}"), Some(3.0));
    assert_eq!(
        sample(&text, "http_request_duration_seconds_count{api=\"/\"}"),
        Some(4.0)
    );
}

#[test]
fn reference_parser_accepts_the_openmetrics_exposition() {
    let python_has_client = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !python_has_client {
        if std::env::var_os("CI").is_some() {
            panic!("python3 with prometheus_client is required in CI");
        }
        eprintln!("\n!!!!! SKIPPING: pip install prometheus_client to run the strict OpenMetrics parse !!!!!\n");
        return;
    }
    let s = TestServer::start(1);
    let mut c = s.connect();
    c.get("/");
    c.get("/cpuTempDown");
    c.request("PUT", "/metrics");
    let body = scrape(&mut c, Some(PROMETHEUS_ACCEPT)).body;
    let script = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        print(f"{family.type} {s.name}{{{labels}}} {s.value!r}")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "strict OpenMetrics parse failed: {stderr}\n{}",
        String::from_utf8_lossy(&body)
    );
    let parsed = String::from_utf8_lossy(&out.stdout);
    for line in [
        "unknown total_req_num{api=\"/\",status=\"200\"} 1",
        "unknown total_req_num{api=\"metrics\",status=\"405\"} 1",
        "gauge cpu_temperature_celsius{} 40",
        "histogram http_request_duration_seconds_count{api=\"/\"} 1",
        "histogram http_request_duration_seconds_bucket{api=\"cpuTempDown\",le=\"+Inf\"} 1",
    ] {
        assert!(parsed.lines().any(|l| l == line), "{line} in\n{parsed}");
    }
    assert!(
        parsed
            .lines()
            .any(|l| l.starts_with("counter process_cpu_seconds_total{} ")),
        "{parsed}"
    );
}
