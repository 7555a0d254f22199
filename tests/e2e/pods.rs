//! The test's "pods": the real binary on loopback ports with the simulated
//! temperature, killed when dropped, and the loadgen's slow mode to step a
//! pod's temperature a known number of times.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::loadgen::run_loadgen;
use crate::common::spawn_binary;

pub struct Pod {
    pub name: &'static str,
    pub addr: SocketAddr,
    _child: Killed,
}

pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One pod per name, each starting at `sim_start` °C and moving `sim_step`
/// per /cpuTempUp or /cpuTempDown.
pub fn start_pods(names: &[&'static str], sim_start: f64, sim_step: f64) -> Vec<Pod> {
    let (start, step) = (sim_start.to_string(), sim_step.to_string());
    names
        .iter()
        .map(|&name| {
            let (child, addr) = spawn_binary(&[
                "--workers",
                "1",
                "--temperature-source",
                "simulated",
                "--sim-start",
                &start,
                "--sim-step",
                &step,
            ]);
            Pod {
                name,
                addr,
                _child: Killed(child),
            }
        })
        .collect()
}

/// `times` requests to `path` on `pod` with the loadgen's slow mode: 2/s.
pub fn step_temperature(pod: &Pod, path: &str, times: u32, limit: Duration) {
    let run = run_loadgen(
        &[
            &format!("--url=http://{}{path}", pod.addr),
            "--rate=2",
            &format!("--duration={}ms", times * 500),
            "--method=POST",
            "--connection=close",
            "--concurrency=1",
            "--progress=0",
        ],
        &[],
        limit,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.count("completed"), u64::from(times), "{run:?}");
    assert_eq!(run.value("status"), format!("200={times}"));
}
