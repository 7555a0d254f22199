//! Running `custom-metrics-app loadgen` as a user would, within a time
//! limit, and reading its summary and the server's request counter.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{samples, Client};

/// One finished loadgen run.
#[derive(Debug)]
pub struct LoadgenRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl LoadgenRun {
    /// The summary's value for `key` (`completed: 400` → `"400"`).
    pub fn value(&self, key: &str) -> &str {
        let prefix = format!("{key}: ");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {key:?} in the summary:\n{}\n{}", self.stdout, self.stderr))
    }

    /// A count of the summary (`sent`, `completed`, `errors`, ...).
    pub fn count(&self, key: &str) -> u64 {
        let v = self.value(key);
        v.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{key}: {v:?} is not a count"))
    }

    /// `achieved: 199.8/s` → 199.8.
    pub fn achieved(&self) -> f64 {
        let v = self.value("achieved");
        v.trim_end_matches("/s")
            .parse()
            .unwrap_or_else(|_| panic!("achieved: {v:?}"))
    }

    /// Stage `n`'s (from 1) asked and achieved rates: `stage 2: 2s:400 asked
    /// 800 (400.0/s) completed 799 (399.5/s) …` → (400.0, 399.5).
    pub fn stage_rates(&self, n: usize) -> (f64, f64) {
        let line = self.value(&format!("stage {n}"));
        let rates: Vec<f64> = line
            .split(['(', ')'])
            .filter_map(|part| part.strip_suffix("/s"))
            .map(|r| r.parse().unwrap_or_else(|_| panic!("rate {r:?} in {line:?}")))
            .collect();
        assert_eq!(rates.len(), 2, "{line:?}");
        (rates[0], rates[1])
    }

    /// `elapsed: 1.997s` → 1.997.
    pub fn elapsed(&self) -> f64 {
        let v = self.value("elapsed");
        v.trim_end_matches('s')
            .parse()
            .unwrap_or_else(|_| panic!("elapsed: {v:?}"))
    }
}

/// Runs `custom-metrics-app loadgen ARGS` with `env`; panics (after killing
/// it) if it has not exited within `limit`.
pub fn run_loadgen(args: &[&str], env: &[(&str, &str)], limit: Duration) -> LoadgenRun {
    let child = Command::new(super::app_binary())
        .arg("loadgen")
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start custom-metrics-app loadgen");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for loadgen"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid; it has not been reaped
            // (the waiting thread has not returned).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("loadgen {args:?} still running after {limit:?}");
        }
    };
    LoadgenRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `total_req_num` for `api`, summed over its statuses, as the server exposes it now.
pub fn requests_counted(addr: SocketAddr, api: &str) -> u64 {
    let body = Client::connect(addr).get("/metrics").text().to_owned();
    let label = format!("api=\"{api}\"");
    samples(&body)
        .into_iter()
        .filter(|(series, _)| series.starts_with("total_req_num{") && series.contains(&label))
        .map(|(_, v)| v as u64)
        .sum()
}

/// The simulated temperature the server exposes now.
pub fn temperature(addr: SocketAddr) -> f64 {
    let body = Client::connect(addr).get("/metrics").text().to_owned();
    super::sample(&body, "cpu_temperature_celsius").expect("cpu_temperature_celsius exposed")
}
