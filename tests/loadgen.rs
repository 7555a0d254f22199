//! `custom-metrics-app loadgen` against the real server binary: what it says
//! it completed is exactly what the server counted, at the rate asked; bad
//! flags are one line and exit 2; an unreachable target exits 1.

mod common;

use std::time::Duration;

use common::loadgen::{requests_counted, run_loadgen, temperature, LoadgenRun};
use common::{free_port, spawn_binary};

const RATE: f64 = 200.0;
/// Generous: the run takes 2 s, the rest is for a busy CI machine.
const LIMIT: Duration = Duration::from_secs(60);

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// 200 requests/s for 2 s on `/` in `mode`; checks the summary against the
/// server's `total_req_num{api="/"}` delta.
fn run_against_server(mode: &str, concurrency: &str) -> LoadgenRun {
    let (child, addr) = spawn_binary(&["--workers", "2"]);
    let _server = Killed(child);
    let url = format!("http://{addr}/");
    let before = requests_counted(addr, "/");
    let run = run_loadgen(
        &[
            &format!("--url={url}"),
            "--rate=200",
            "--duration=2s",
            &format!("--connection={mode}"),
            &format!("--concurrency={concurrency}"),
            "--progress=500ms",
        ],
        // The image sets CMA_LISTEN for the server; it must not disturb the subcommand.
        &[("CMA_LISTEN", "0.0.0.0:3000")],
        LIMIT,
    );
    let after = requests_counted(addr, "/");
    println!("{mode}: {}{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.value("url"), url);
    assert_eq!(run.value("connection"), mode);
    assert_eq!(run.value("asked"), "200.0/s for 2s (400 requests)");

    let completed = run.count("completed");
    assert_eq!(completed, after - before, "completed = what the server counted");
    assert_eq!(run.count("errors"), 0, "{run:?}");
    assert_eq!(run.count("sent"), completed);
    assert_eq!(run.value("status"), format!("200={completed}"));
    assert_eq!(run.count("unsent") + completed, 400);
    let achieved = run.achieved();
    assert!(
        (achieved - RATE).abs() <= RATE * 0.1,
        "achieved {achieved}/s, asked {RATE}/s"
    );
    // Paced, not sent in a burst: the last request is due at 1.995 s.
    assert!(run.elapsed() >= 1.99, "elapsed {}", run.elapsed());
    assert!(run.value("latency").starts_with("p50="), "{run:?}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("loadgen: ") && l.contains(" rate ")),
        "a progress line: {}",
        run.stderr
    );
    run
}

#[test]
fn keep_alive_run_matches_the_server_counter() {
    run_against_server("keep-alive", "4");
}

#[test]
fn close_run_matches_the_server_counter() {
    run_against_server("close", "8");
}

#[test]
fn once_run_matches_the_server_counter() {
    run_against_server("once", "8");
}

/// The temperature experiment's mode: a slow rate on /cpuTempUp, POST.
#[test]
fn slow_rate_steps_the_temperature() {
    let (child, addr) = spawn_binary(&["--workers", "1", "--sim-start", "50", "--sim-step", "10"]);
    let _server = Killed(child);
    let run = run_loadgen(
        &[
            &format!("--url=http://{addr}/cpuTempUp"),
            "--rate=4",
            "--duration=1s",
            "--method=POST",
            "--connection=close",
            "--concurrency=1",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.value("asked"), "4.000/s for 1s (4 requests)");
    assert_eq!(run.count("completed"), 4);
    assert_eq!(requests_counted(addr, "cpuTempUp"), 4);
    assert_eq!(temperature(addr), 90.0);
}

/// Keep-alive below the server's idle timeout's pace: every reused
/// connection has been closed by the server in between, and the request is
/// sent again on a fresh one instead of failing.
#[test]
fn keep_alive_survives_idle_timeouts() {
    let (child, addr) = spawn_binary(&["--workers", "1", "--idle-timeout", "0.2"]);
    let _server = Killed(child);
    let run = run_loadgen(
        &[
            &format!("--url=http://{addr}/"),
            "--rate=2",
            "--duration=2s",
            "--connection=keep-alive",
            "--concurrency=1",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!((run.count("completed"), run.count("errors")), (4, 0), "{run:?}");
    assert_eq!(requests_counted(addr, "/"), 4);
}

#[test]
fn unreachable_target_exits_1() {
    // A port nobody listens on (free_port's listener is closed again).
    let url = format!("--url=http://127.0.0.1:{}/", free_port());
    let run = run_loadgen(&[&url, "--rate=20", "--duration=500ms", "--timeout=2s"], &[], LIMIT);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.count("completed"), 0);
    assert_eq!(run.value("errors"), "10 (connect=10)");
    assert_eq!(run.value("status"), "none");

    let unknown = run_loadgen(
        &["--url=http://no-such-host.invalid/", "--rate=1", "--duration=1s"],
        &[],
        LIMIT,
    );
    assert_eq!(unknown.code, Some(1), "{unknown:?}");
    assert!(
        unknown.stderr.starts_with("error: cannot resolve no-such-host.invalid"),
        "{unknown:?}"
    );
}

#[test]
fn sigterm_stops_early_with_a_summary() {
    let (child, addr) = spawn_binary(&["--workers", "1"]);
    let _server = Killed(child);
    let loadgen = std::process::Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args(["loadgen", &format!("--url=http://{addr}/"), "--rate=2", "--duration=1h"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = loadgen.id() as i32;
    // Requests 0 and 1 are due at 0 s and 0.5 s.
    let deadline = std::time::Instant::now() + LIMIT;
    while requests_counted(addr, "/") < 2 {
        assert!(std::time::Instant::now() < deadline, "loadgen sent nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own, still running child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(loadgen.wait_with_output()));
    let out = rx.recv_timeout(LIMIT).expect("loadgen exits after SIGTERM").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\ninterrupted: yes\n"), "{stdout}");
    let completed: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("completed: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(completed, requests_counted(addr, "/"));
}

/// A ramp, a hold and a ramp down: each stage's achieved rate, counted by
/// when its requests were sent, is within 5 % of what the stage asked.
#[test]
fn stages_pace_each_stage() {
    let (child, addr) = spawn_binary(&["--workers", "2"]);
    let _server = Killed(child);
    let before = requests_counted(addr, "/");
    let run = run_loadgen(
        &[
            &format!("--url=http://{addr}/"),
            "--stages=2s:0-400,2s:400,2s:400-0",
            "--concurrency=8",
            "--progress=0",
        ],
        &[],
        LIMIT,
    );
    println!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.value("asked"), "2s:0-400,2s:400,2s:400-0 for 6s (1600 requests)");
    assert_eq!(run.count("completed"), requests_counted(addr, "/") - before);
    for (stage, want) in [(1, 200.0), (2, 400.0), (3, 200.0)] {
        let (asked, achieved) = run.stage_rates(stage);
        assert_eq!(asked, want, "stage {stage}");
        assert!(
            (achieved - asked).abs() <= asked * 0.05,
            "stage {stage}: achieved {achieved}/s, asked {asked}/s"
        );
    }
}

#[test]
fn json_summary() {
    let (child, addr) = spawn_binary(&["--workers", "1"]);
    let _server = Killed(child);
    let run = run_loadgen(
        &[
            &format!("--url=http://{addr}/status/503"),
            "--stages=500ms:20,500ms:20-0",
            "--output=json",
        ],
        &[],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(summary["asked"], 15);
    assert_eq!(summary["completed"], 15);
    assert_eq!(summary["status"]["503"], 15);
    assert_eq!(summary["stages"].as_array().unwrap().len(), 2);
    assert_eq!(summary["stages"][0]["asked"], 10);
    assert_eq!(summary["stages"][1]["to_per_second"], 0.0);
    assert!(summary["latency_seconds"]["p99"].as_f64().unwrap() > 0.0);
    assert_eq!(requests_counted(addr, "status"), 15);
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let ok = ["--url=http://127.0.0.1:9/", "--rate=1", "--duration=1s"];
    for (args, env) in [
        (&[][..], &[][..]),
        (&["--url=http://127.0.0.1:9/"], &[]),
        (&["--url=https://127.0.0.1:9/", "--rate=1", "--duration=1s"], &[]),
        (&["--url=127.0.0.1:9", "--rate=1", "--duration=1s"], &[]),
        (&[ok[0], "--rate=0", ok[2]], &[]),
        (&[ok[0], "--rate=2000000", ok[2]], &[]),
        (&[ok[0], ok[1], "--duration=25h"], &[]),
        (&[ok[0], ok[1], "--duration=soon"], &[]),
        (&[ok[0], ok[1], ok[2], "--connection=pipelined"], &[]),
        (&[ok[0], ok[1], ok[2], "--concurrency=0"], &[]),
        (&[ok[0], ok[1], ok[2], "--method=DELETE"], &[]),
        (&[ok[0], ok[1], ok[2], "--timeout=0"], &[]),
        (&[ok[0], ok[1], ok[2], "--listen=127.0.0.1:1"], &[]),
        (&[ok[0], ok[2]], &[("CMA_LOADGEN_RATE", "fast")]),
        (&[ok[0], "--stages=30s"], &[]),
        (&[ok[0], "--stages=30s:0-x"], &[]),
        (&[ok[0], "--stages=10s:0"], &[]),
        (&[ok[0], ok[1], "--stages=1s:1"], &[]),
        (&[ok[0], ok[1], ok[2], "--output=yaml"], &[]),
    ] {
        let run = run_loadgen(args, env, LIMIT);
        assert_eq!(run.code, Some(2), "{args:?} {env:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "one line for {args:?}: {:?}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{:?}", run.stderr);
        assert!(
            run.stderr
                .trim_end()
                .ends_with("(see custom-metrics-app loadgen --help)"),
            "{:?}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    // Server flags before the subcommand.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args(["--workers", "2", "loadgen"])
        .args(ok)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn environment_configures_the_run() {
    let (child, addr) = spawn_binary(&["--workers", "1"]);
    let _server = Killed(child);
    let url = format!("http://{addr}/");
    let run = run_loadgen(
        &[],
        &[
            ("CMA_LOADGEN_URL", url.as_str()),
            ("CMA_LOADGEN_RATE", "10"),
            ("CMA_LOADGEN_DURATION", "500ms"),
            ("CMA_LOADGEN_CONNECTION", "close"),
            ("CMA_LOADGEN_CONCURRENCY", "2"),
        ],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!((run.value("connection"), run.value("concurrency")), ("close", "2"));
    assert_eq!(run.count("completed"), 5);
    assert_eq!(requests_counted(addr, "/"), 5);
}

#[test]
fn help_lists_the_flags() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args(["loadgen", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--url",
        "--rate",
        "--duration",
        "--connection",
        "--concurrency",
        "--method",
        "--timeout",
        "--progress",
        "--stages",
        "--output",
        "CMA_LOADGEN_URL",
        "keep-alive",
    ] {
        assert!(text.contains(flag), "loadgen --help mentions {flag}");
    }
    let top = std::process::Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("loadgen"));
}

/// The load Jobs of deploy/loadgen/ parse with the real command line and
/// plan what their comments promise.
#[test]
fn deploy_jobs_parse() {
    use clap::Parser;
    use custom_metrics_app::internals::config::{Cli, Command};
    use custom_metrics_app::internals::loadgen::ConnectionMode;
    use custom_metrics_app::internals::loadgen::Schedule;
    use yaml_rust2::YamlLoader;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loadgen");
    for (file, path, requests) in [
        ("qps-job.yaml", "/", 1_800_000),
        ("temperature-job.yaml", "/cpuTempUp", 96),
        // 1m:0-6000 + 4m:6000 + 30s:6000-0.
        ("stages-job.yaml", "/", 180_000 + 1_440_000 + 90_000),
        ("work-job.yaml", "/work/20ms", 1_500 + 12_000 + 750),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let job = &YamlLoader::load_from_str(&text).unwrap()[0];
        let container = &job["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_vec()
            .unwrap_or_else(|| panic!("{file}: args"))
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let cli = Cli::try_parse_from(std::iter::once("custom-metrics-app").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let Some(Command::Loadgen(a)) = cli.command else {
            panic!("{file}: not a loadgen run: {args:?}");
        };
        assert_eq!(a.url.path, path, "{file}");
        assert_eq!(a.connection, ConnectionMode::Close, "{file}: spread over all pods");
        let schedule = Schedule::staged(a.stages());
        assert_eq!(schedule.planned(), requests, "{file}");
        // The Job's deadline leaves room for the whole run and one timeout.
        let deadline = job["spec"]["activeDeadlineSeconds"].as_i64().unwrap() as u64;
        assert!(schedule.duration().as_secs() + a.timeout.as_secs() < deadline, "{file}");
    }
}
