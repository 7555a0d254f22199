//! The binary as a user runs it: flags, environment, errors, signals.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{spawn_binary, spawn_binary_with_env, wait_for_exit, Client};

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run binary")
}

#[test]
fn version_and_help() {
    let out = run(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("custom-metrics-app {}", env!("CARGO_PKG_VERSION"))
    );
    let help = run(&["--help"], &[]);
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--workers",
        "--sim-start",
        "--sim-step",
        "CMA_LISTEN",
        "CMA_WORKERS",
        "CMA_SIM_START",
    ] {
        assert!(text.contains(flag), "--help mentions {flag}");
    }
}

#[test]
fn invalid_values_exit_2_with_one_line() {
    for (args, env) in [
        (&["--workers", "0"][..], &[][..]),
        (&["--listen", "localhost"], &[]),
        (&["--sim-step", "NaN"], &[]),
        (&["--no-such-flag"], &[]),
        (&[], &[("CMA_WORKERS", "lots")]),
        (&[], &[("CMA_LISTEN", "1.2.3.4")]),
    ] {
        let out = run(args, env);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line for {args:?} {env:?}: {err:?}");
        assert!(err.starts_with("error: "), "{err:?}");
    }
}

#[test]
fn environment_configures_the_simulation() {
    let (mut child, addr) =
        spawn_binary_with_env(&["--workers", "1"], &[("CMA_SIM_START", "20"), ("CMA_SIM_STEP", "2.5")]);
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/cpuTempUp").text(), "22.5\n");
    assert_eq!(c.get("/cpuTempDown").text(), "20\n");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigterm_exits_zero_promptly() {
    let (mut child, addr) = spawn_binary(&["--workers", "2"]);
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/").status, 200);
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_for_exit(&mut child, Duration::from_secs(10), "after SIGTERM");
    assert_eq!(status.code(), Some(0));
}

/// One duration grammar: a spelling a server flag takes, a `/delay/` path
/// and `loadgen --duration` take too, each within its own bounds.
#[test]
fn durations_read_alike_in_flags_paths_and_loadgen() {
    const SPELLINGS: [&str; 5] = ["0.05", "50ms", "50000us", "0m0.05s", ".05s"];
    for spelling in SPELLINGS {
        let (mut child, addr) = spawn_binary(&[
            "--workers",
            "1",
            "--no-defer-accept",
            "--header-timeout",
            spelling,
            "--idle-timeout",
            "1h",
        ]);
        let mut c = Client::connect(addr);
        let r = c.get(&format!("/delay/{spelling}"));
        assert_eq!((r.status, r.text()), (200, "delayed\n"), "/delay/{spelling}");
        let out = run(
            &[
                "loadgen",
                &format!("--url=http://{addr}/"),
                "--rate=40",
                &format!("--duration={spelling}"),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "loadgen --duration {spelling}: {out:?}");
        // The header timeout took the spelling: a head left unfinished is
        // answered 408 well before the default 10s.
        let started = std::time::Instant::now();
        let mut idle = Client::connect(addr);
        idle.send(b"GET / HTTP/1.1\r\n");
        let r = idle.read_response(false);
        assert_eq!(r.status, 408, "--header-timeout {spelling}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "--header-timeout {spelling}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Spellings that are no duration anywhere.
    let (mut child, addr) = spawn_binary(&["--workers", "1"]);
    let mut c = Client::connect(addr);
    for bad in ["1e3", "-1s", "1 s", "1h30", "5x"] {
        assert_eq!(
            c.get(&format!("/delay/{}", bad.replace(' ', "%20"))).status,
            400,
            "{bad}"
        );
        let out = run(&["--idle-timeout", bad], &[]);
        assert_eq!(out.status.code(), Some(2), "--idle-timeout {bad}");
        let out = run(
            &["loadgen", "--url=http://127.0.0.1:1/", "--rate=1", "--duration", bad],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "loadgen --duration {bad}");
    }
    // `1h` is a duration everywhere; only the bounds differ.
    assert_eq!(c.get("/delay/1h").status, 400);
    let err = String::from_utf8_lossy(&run(&["--delay", "1h"], &[]).stderr).into_owned();
    assert!(err.contains("up to 10s"), "{err}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A server whose stderr reader is gone (a log shipper restarted, a test
/// harness exited) still stops on SIGTERM: the signal thread's message
/// must not be what kills it.
#[test]
fn sigterm_stops_the_server_with_stderr_closed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custom-metrics-app"))
        .args(["--listen", "127.0.0.1:0", "--workers", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    drop(stderr);
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_for_exit(&mut child, Duration::from_secs(10), "after SIGTERM with stderr closed");
    assert_eq!(status.code(), Some(0), "{status:?}");
}
