//! `--log-requests` on the real binary: one parsable line per request in
//! both formats, and a stdout that nobody reads never stalls the server
//! (lines are dropped, counted, and the drop is said in the log).

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{sample, spawn_binary_with, wait_for_exit, Client};

/// Reads the child's whole stdout on a thread (so the pipe keeps flowing once started).
fn collect_stdout(child: &mut Child) -> JoinHandle<String> {
    let mut out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).expect("utf-8 log");
        text
    })
}

fn stop(child: &mut Child) {
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(wait_for_exit(child, Duration::from_secs(20), "after SIGTERM").success());
}

const PATHS: [(&str, u16); 6] = [
    ("/", 200),
    ("/status/503", 503),
    ("/delay/10ms", 200),
    ("/a%22b", 200),
    ("/healthz", 200),
    ("/status/418", 400),
];

/// Sends every path of [`PATHS`] `rounds` times; returns the requests sent.
fn send_requests(c: &mut Client, rounds: usize) -> usize {
    for _ in 0..rounds {
        for (path, status) in PATHS {
            assert_eq!(c.get(path).status, status, "{path}");
        }
    }
    rounds * PATHS.len()
}

#[test]
fn json_lines_one_per_request() {
    let (mut child, addr, _) = spawn_binary_with(
        &["--workers", "1", "--log-requests", "--log-format", "json"],
        &[],
        Stdio::piped(),
    );
    let out = collect_stdout(&mut child);
    let sent = send_requests(&mut Client::connect(addr), 10);
    // A head that cannot be parsed is logged too, as far as it is known.
    let mut bad = Client::connect(addr);
    bad.send(b"GET /x HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n");
    assert_eq!(bad.read_response(false).status, 400);
    stop(&mut child);
    let log = out.join().unwrap();
    let mut lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), sent + 1);
    let rejected = lines.pop().unwrap();
    assert_eq!(
        (rejected["method"].as_str(), rejected["status"].as_u64()),
        (Some("OTHER"), Some(400))
    );
    for (i, line) in lines.iter().enumerate() {
        let (path, status) = PATHS[i % PATHS.len()];
        assert_eq!(line["method"], "GET");
        assert_eq!(line["path"], path);
        assert_eq!(line["status"], status);
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        let latency = line["latency_seconds"].as_f64().unwrap();
        assert!(latency >= 0.0);
        if path.starts_with("/delay/") {
            assert!(latency >= 0.01, "{line}");
        }
    }
}

#[test]
fn text_lines_one_per_request() {
    let (mut child, addr, _) = spawn_binary_with(&["--workers", "2"], &[("CMA_LOG_REQUESTS", "true")], Stdio::piped());
    let out = collect_stdout(&mut child);
    let sent = send_requests(&mut Client::connect(addr), 10);
    stop(&mut child);
    let log = out.join().unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), sent, "{log}");
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (path, status) = PATHS[i % PATHS.len()];
        assert_eq!(fields.len(), 5, "{line}");
        assert_eq!(fields[0].len(), "2026-12-02T13:21:06.123Z".len(), "{line}");
        assert_eq!((fields[1], fields[2]), ("GET", path));
        assert_eq!(fields[3], status.to_string());
        let seconds: f64 = fields[4].strip_suffix('s').unwrap().parse().unwrap();
        assert!(seconds >= 0.0);
    }
}

#[test]
fn a_stdout_nobody_reads_does_not_stall_the_server() {
    let (mut child, addr, _) = spawn_binary_with(&["--workers", "1", "--log-requests"], &[], Stdio::piped());
    // Nobody reads stdout yet: the pipe fills, then the log's ring.
    let mut c = Client::connect(addr);
    let batch: Vec<u8> = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".repeat(100);
    const BATCHES: usize = 300;
    for _ in 0..BATCHES {
        c.send(&batch);
        for _ in 0..100 {
            assert_eq!(c.read_response(false).status, 200);
        }
    }
    let m = c.get("/metrics").text().to_owned();
    let dropped = sample(&m, "custom_metrics_app_request_log_dropped_total").unwrap();
    assert!(dropped > 0.0, "nothing dropped: {m}");
    // Reading again: the backlog comes out, then a note of what was dropped.
    let out = collect_stdout(&mut child);
    let sent = BATCHES * 100 + 1;
    std::thread::sleep(Duration::from_millis(200));
    stop(&mut child);
    let log = out.join().unwrap();
    let mut logged = 0;
    let mut reported = 0;
    for line in log.lines() {
        if let Some(rest) = line.split(" request log: ").nth(1) {
            reported += rest.split(' ').next().unwrap().parse::<usize>().unwrap();
        } else {
            assert!(line.contains(" GET /"), "{line}");
            logged += 1;
        }
    }
    assert!(reported as f64 >= dropped);
    assert_eq!(logged + reported, sent, "every request is logged or counted as dropped");
}
