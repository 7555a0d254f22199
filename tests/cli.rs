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
