//! The one-shot clients people point at this app, run for real against the
//! server binary: busybox wget (the seed's and the Kubernetes HPA
//! walkthrough's load loop), GNU wget, curl, ab without `-k`, and the app's
//! own `loadgen --connection close`. Each is answered correctly, and every
//! request is counted exactly once.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::loadgen::{requests_counted, run_loadgen};
use common::{require_tool, spawn_binary};

/// Runs `program args`, killed after 30 s at the latest.
fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .arg("30")
        .arg(program)
        .args(args)
        // Loopback only: a proxy from the environment must not intercept.
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    out
}

/// Fetches `/` `times` times, one process (and one connection) each.
fn fetch_each_time(times: u64, program: &str, args: &[&str], url: &str) {
    let mut args = args.to_vec();
    args.push(url);
    for _ in 0..times {
        let out = run(program, &args);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "custom metrics", "{program}");
    }
}

#[test]
fn one_shot_clients_are_answered_and_counted_once() {
    let (mut server, addr) = spawn_binary(&["--workers", "2"]);
    let url = format!("http://{addr}/");
    let mut expected = 0;
    const TIMES: u64 = 25;
    // busybox wget: HTTP/1.1 with Connection: close.
    if require_tool("busybox") {
        fetch_each_time(TIMES, "busybox", &["wget", "-q", "-O-"], &url);
        expected += TIMES;
    }
    // GNU wget: Connection: Keep-Alive, then closes after one response.
    if require_tool("wget") {
        fetch_each_time(TIMES, "wget", &["-q", "-O-", "--no-proxy"], &url);
        expected += TIMES;
    }
    // curl: no Connection header (keep-alive), closes after one response.
    if require_tool("curl") {
        fetch_each_time(TIMES, "curl", &["-sS", "--noproxy", "*"], &url);
        expected += TIMES;
    }
    // ab without -k: HTTP/1.0, expects the server to close.
    if require_tool("ab") {
        let out = run("ab", &["-q", "-n", "500", "-c", "8", &url]);
        let report = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| -> u64 {
            report
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("no {name:?} in ab's report:\n{report}"))
        };
        assert_eq!(field("Complete requests:"), 500, "{report}");
        assert_eq!(field("Failed requests:"), 0, "{report}");
        assert!(!report.contains("Non-2xx responses:"), "{report}");
        expected += 500;
    }
    let run = run_loadgen(
        &[
            &format!("--url={url}"),
            "--rate=400",
            "--duration=1s",
            "--connection=close",
            "--concurrency=8",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!((run.count("completed"), run.count("errors")), (400, 0));
    expected += 400;
    assert_eq!(requests_counted(addr, "/"), expected, "each request counted once");
    server.kill().unwrap();
    server.wait().unwrap();
}
