//! `custom-metrics-app check` (the chart's `helm test`) against the real
//! server binary and against a loopback server that answers but never
//! counts: it passes only when the app answers and counts, says why it
//! failed otherwise (exit 1), and rejects bad flags with one line (exit 2).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::loadgen::requests_counted;
use common::{free_port, spawn_binary};

/// Generous: a check takes milliseconds, the rest is for a busy CI machine.
const LIMIT: Duration = Duration::from_secs(60);

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn check(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .arg("check")
        .args(args)
        // The image sets CMA_LISTEN for the server; it must not disturb the subcommand.
        .env("CMA_LISTEN", "0.0.0.0:3000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start custom-metrics-app check");
    common::wait_for_exit(&mut child, LIMIT, "check");
    child.wait_with_output().expect("check's output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn passes_against_the_app_and_the_app_counted_the_requests() {
    let (child, addr) = spawn_binary(&["--workers", "2"]);
    let _server = Killed(child);
    let before = requests_counted(addr, "/");
    let out = check(&[&format!("--url=http://{addr}"), "--requests=7"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "check: ok: 7 requests to http://{addr}/ answered (status 200)"
        )),
        "{stdout}"
    );
    assert_eq!(requests_counted(addr, "/") - before, 7);
}

#[test]
fn injected_errors_still_pass_they_are_answered_and_counted() {
    let (child, addr) = spawn_binary(&["--error-ratio", "0.5"]);
    let _server = Killed(child);
    let out = check(&[&format!("--url=http://{addr}/"), "--requests=4"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("answered (status 200, 500)"), "{stdout}");
}

/// A loopback server that answers every request 200 on a kept-alive
/// connection, /metrics with a counter that never moves: an app that
/// answers but does not count. Serves one connection, then stops.
fn answering_but_not_counting() -> (SocketAddr, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(LIMIT)).unwrap();
        let mut pending = Vec::new();
        let mut buf = [0u8; 4096];
        let mut answered = 0;
        let start = Instant::now();
        while start.elapsed() < LIMIT {
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
                continue;
            };
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..end + 4);
            let body = if head.starts_with("GET /metrics ") {
                "# TYPE total_req_num counter\ntotal_req_num{status=\"200\",api=\"/\"} 3\n"
            } else {
                "custom metrics"
            };
            let response = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            conn.write_all(response.as_bytes()).unwrap();
            answered += 1;
        }
        answered
    });
    (addr, handle)
}

#[test]
fn fails_when_the_requests_are_not_counted() {
    let (addr, server) = answering_but_not_counting();
    let out = check(&[&format!("--url=http://{addr}"), "--requests=5"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}{stderr}", text(&out.stdout));
    assert!(
        stderr.starts_with("check: FAILED: total_req_num{api=\"/\"} went from 3 to 3 after 5 answered requests"),
        "{stderr}"
    );
    // Scrape, five requests, scrape: all on the one connection.
    assert_eq!(server.join().unwrap(), 7);
}

#[test]
fn fails_when_nothing_answers() {
    let out = check(&[&format!("--url=http://127.0.0.1:{}", free_port()), "--timeout=5s"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("check: FAILED: /metrics: connect"), "{stderr}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    for (args, says) in [
        (
            &["--url=http://127.0.0.1:3000/metrics"][..],
            "give the app's address only",
        ),
        (
            &["--url=http://127.0.0.1:3000", "--requests=0"][..],
            "expected a whole number from 1 to 10000",
        ),
        (
            &["--url=http://127.0.0.1:3000", "--timeout=0s"][..],
            "expected a duration above 0",
        ),
        (&[][..], "--url"),
    ] {
        let out = check(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.contains("custom-metrics-app check --help"), "{args:?}: {stderr}");
    }
}
