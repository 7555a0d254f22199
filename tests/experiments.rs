//! The experiment routes and flags over real loopback sockets: injected
//! statuses and errors, latency, CPU work, readiness, build information.

mod common;

use std::time::{Duration, Instant};

use common::{sample, spawn_binary, Client, TestServer};
use custom_metrics_app::internals::app::{AppOptions, DelayRange, ErrorRatio};

fn metrics(c: &mut Client) -> String {
    c.get("/metrics").text().to_owned()
}

fn count(exposition: &str, status: &str, api: &str) -> f64 {
    sample(
        exposition,
        &format!("total_req_num{{status=\"{status}\",api=\"{api}\"}}"),
    )
    .unwrap_or(0.0)
}

#[test]
fn status_codes_answer_and_count_under_their_own_api() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let codes = [200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504];
    for code in codes {
        let r = c.get(&format!("/status/{code}"));
        assert_eq!(r.status, code);
        if code != 204 {
            assert!(r.text().starts_with(&code.to_string()), "{:?}", r.text());
        }
    }
    assert_eq!(c.request("POST", "/status/503").status, 503);
    assert_eq!(c.request("HEAD", "/status/404").status, 404);
    assert_eq!(c.request("PUT", "/status/200").status, 405);
    // Outside the set, malformed, or empty: 400, and no new series.
    for bad in [
        "/status/418",
        "/status/999",
        "/status/20",
        "/status/2000",
        "/status/abc",
        "/status/",
        "/status/+200",
    ] {
        let r = c.get(bad);
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.text().contains("/status/{code}"));
    }
    let m = metrics(&mut c);
    assert_eq!(count(&m, "503", "status"), 2.0);
    assert_eq!(count(&m, "204", "status"), 1.0);
    assert_eq!(count(&m, "400", "status"), 8.0);
    assert_eq!(count(&m, "418", "status"), 0.0);
    assert!(!m.contains("418") && !m.contains("\"999\""));
    // The seed routes' 200 series are there from the start; the new routes' are not needed.
    for api in ["/", "cpuTempUp", "cpuTempDown", "metrics", "healthz", "readyz"] {
        assert!(
            m.contains(&format!("total_req_num{{status=\"200\",api=\"{api}\"}}")),
            "{api}"
        );
    }
}

#[test]
fn error_ratio_spreads_500s_evenly() {
    let options = AppOptions {
        error_ratio: ErrorRatio::new(0.25),
        ..AppOptions::default()
    };
    let s = TestServer::start_with_options(1, options, |_| {});
    let mut c = s.connect();
    let statuses: Vec<u16> = (0..100).map(|_| c.get("/").status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 25);
    // Every fourth, never two in a row.
    assert!(statuses.windows(2).all(|w| !(w[0] == 500 && w[1] == 500)));
    assert!(statuses.chunks(4).all(|c| c.iter().filter(|s| **s == 500).count() == 1));
    let m = metrics(&mut c);
    assert_eq!((count(&m, "500", "/"), count(&m, "200", "/")), (25.0, 75.0));
    // Other routes are never failed.
    assert!((0..8).all(|_| c.get("/healthz").status == 200));
}

#[test]
fn delay_does_not_hold_the_worker() {
    let s = TestServer::start(1);
    let mut slow = s.connect();
    let started = Instant::now();
    slow.send(b"GET /delay/1500ms HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    // The one worker keeps serving another connection meanwhile, and the
    // delayed answer has not come yet when that one is done.
    let mut other = s.connect();
    for _ in 0..20 {
        assert_eq!(other.get("/").status, 200);
    }
    slow.stream.set_nonblocking(true).unwrap();
    let mut peek = [0u8; 1];
    assert!(slow.stream.peek(&mut peek).is_err(), "the delayed answer came early");
    slow.stream.set_nonblocking(false).unwrap();
    let r = slow.read_response(false);
    let waited = started.elapsed();
    assert_eq!((r.status, r.text()), (200, "delayed\n"));
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // The request pipelined behind it is answered after it.
    assert_eq!(slow.read_response(false).text(), "ok\n");
    for bad in ["/delay/11s", "/delay/abc", "/delay/-1", "/delay/", "/delay/1h"] {
        assert_eq!(other.get(bad).status, 400, "{bad}");
    }
    assert_eq!(other.get("/delay/0").status, 200);
    let m = metrics(&mut other);
    assert_eq!(count(&m, "200", "delay"), 2.0);
    let le = |b: &str| {
        sample(
            &m,
            &format!("http_request_duration_seconds_bucket{{api=\"delay\",le=\"{b}\"}}"),
        )
        .unwrap()
    };
    // Cumulative buckets: the 1.5 s answer is the one between 1 s and 2.5 s.
    assert_eq!(le("2.5") - le("1"), 1.0, "the histogram shows the delay");
}

#[test]
fn delay_flag_slows_root_only() {
    let ms = Duration::from_millis;
    let options = AppOptions {
        delay: Some(DelayRange {
            min: ms(100),
            max: ms(200),
        }),
        ..AppOptions::default()
    };
    let s = TestServer::start_with_options(1, options, |_| {});
    let mut c = s.connect();
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(c.get("/").text(), "custom metrics");
        let waited = started.elapsed();
        assert!(waited >= ms(100) && waited < Duration::from_secs(10), "{waited:?}");
    }
    // HEAD keeps its framing through the deferral.
    let r = c.request("HEAD", "/");
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(c.get("/healthz").status, 200);
    let m = metrics(&mut c);
    assert_eq!(count(&m, "200", "/"), 4.0);
}

/// CPU time this process has used, user and system.
fn process_cpu_time() -> Duration {
    // SAFETY: rusage is plain integers, for which all zeroes is a value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn work_burns_cpu_on_a_bounded_pool() {
    let options = AppOptions {
        work_threads: 1,
        ..AppOptions::default()
    };
    let s = TestServer::start_with_options(1, options, |_| {});
    let mut c = s.connect();
    let before = process_cpu_time();
    let r = c.get("/work/300ms");
    assert_eq!((r.status, r.text()), (200, "worked\n"));
    let used = process_cpu_time() - before;
    assert!(used >= Duration::from_millis(290), "CPU time used: {used:?}");

    // With the one thread busy, more work is refused, and scrapes are served.
    let mut busy = s.connect();
    busy.send(b"GET /work/1s HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    let refused = c.get("/work/10ms");
    assert_eq!((refused.status, refused.text()), (503, "every work thread is busy\n"));
    assert_eq!(c.get("/metrics").status, 200);
    assert_eq!(busy.read_response(false).status, 200);
    for bad in ["/work/2s", "/work/1.5s", "/work/x", "/work/"] {
        assert_eq!(c.get(bad).status, 400, "{bad}");
    }
    let m = metrics(&mut c);
    assert_eq!((count(&m, "200", "work"), count(&m, "503", "work")), (2.0, 1.0));
}

#[test]
fn readiness_toggles_without_restart() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    assert_eq!(c.get("/readyz").status, 200);
    assert_eq!(c.request("POST", "/readyz/disable").text(), "not ready\n");
    let r = c.get("/readyz");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("disable"));
    assert_eq!(c.get("/healthz").status, 200, "liveness is not touched");
    let r = c.get("/readyz/enable");
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST")));
    assert_eq!(c.request("POST", "/readyz/enable").text(), "ready\n");
    assert_eq!(c.get("/readyz").status, 200);
    let m = metrics(&mut c);
    assert_eq!(
        (count(&m, "503", "readyz"), count(&m, "200", "readyzDisable")),
        (1.0, 1.0)
    );
}

#[test]
fn version_json_and_build_info() {
    let s = TestServer::start(1);
    let mut c = s.connect();
    let r = c.get("/version");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let revision = v["revision"].as_str().unwrap();
    assert!(!revision.is_empty());
    assert!(v["build_date"].as_str().unwrap().len() >= 7);
    let rustc = v["rustc"].as_str().unwrap().to_owned();
    let m = metrics(&mut c);
    let series = format!(
        "custom_metrics_app_build_info{{version=\"{}\",revision=\"{revision}\",rustc=\"{rustc}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&m, &series), Some(1.0), "{m}");
}

/// The flags reach the app through the real command line.
#[test]
fn flags_of_the_binary() {
    let (mut child, addr) = spawn_binary(&[
        "--workers",
        "1",
        "--error-ratio",
        "0.5",
        "--delay",
        "20ms..40ms",
        "--work-threads",
        "1",
    ]);
    let mut c = Client::connect(addr);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        statuses.push(c.get("/").status);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(20) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
    }
    assert_eq!(statuses, [200, 500, 200, 500]);
    let mut busy = Client::connect(addr);
    busy.send(b"GET /work/1s HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.get("/work/10ms").status, 503, "one work thread, busy");
    assert_eq!(busy.read_response(false).status, 200);
    let _ = child.kill();
    let _ = child.wait();
}
