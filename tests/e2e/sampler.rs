//! The load a pod actually received, measured independently of Prometheus:
//! a thread reads the pod's `total_req_num` (the routes the `qps` rule
//! counts) every 100 ms with a wall-clock timestamp, and the rate over any
//! window is read off the samples by linear interpolation.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::loadgen::requests_counted;

const EVERY: Duration = Duration::from_millis(100);

pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

pub struct CounterSampler {
    samples: Arc<Mutex<Vec<(f64, u64)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CounterSampler {
    /// Samples `total_req_num{api}` of the pod at `addr` until stopped.
    pub fn start(addr: SocketAddr, api: &'static str) -> CounterSampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Timestamped halfway through the request: the counter
                    // was read somewhere in between.
                    let before = unix_now();
                    let count = requests_counted(addr, api);
                    let at = (before + unix_now()) / 2.0;
                    samples.lock().unwrap().push((at, count));
                    std::thread::sleep(EVERY);
                }
            })
        };
        CounterSampler {
            samples,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the samples taken so far stay readable.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("sampler thread");
        }
    }

    /// Requests per second received between `from` and `to` (Unix seconds).
    pub fn rate(&self, from: f64, to: f64) -> f64 {
        let samples = self.samples.lock().unwrap();
        (interpolate(&samples, to) - interpolate(&samples, from)) / (to - from)
    }
}

impl Drop for CounterSampler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The counter at `t`, linear between the two samples around it.
fn interpolate(samples: &[(f64, u64)], t: f64) -> f64 {
    let after = samples
        .iter()
        .position(|&(at, _)| at >= t)
        .unwrap_or_else(|| panic!("no sample at or after {t}"));
    assert!(after > 0, "no sample before {t}");
    let ((t0, c0), (t1, c1)) = (samples[after - 1], samples[after]);
    c0 as f64 + (c1 as f64 - c0 as f64) * (t - t0) / (t1 - t0)
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    #[test]
    fn interpolates_between_samples() {
        let s = [(10.0, 0), (11.0, 300), (12.0, 600)];
        assert_eq!(interpolate(&s, 10.5), 150.0);
        assert_eq!(interpolate(&s, 12.0), 600.0);
        assert_eq!(interpolate(&s, 11.25), 375.0);
    }
}
