//! The load: `custom-metrics-app loadgen` against the Service, following
//! the staged profile (rates times the load scale, durations times the time
//! scale), connection per request. Its progress lines (every lab second)
//! give the responses and errors over time; its JSON summary the totals.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use custom_metrics_app::internals::grammar::duration;
use custom_metrics_app::internals::loadgen::{parse_stages, Stage};

/// The profile in cluster terms.
pub struct Profile {
    pub stages: Vec<Stage>,
}

impl Profile {
    pub fn parse(text: &str) -> Result<Profile, String> {
        parse_stages(text).map(|stages| Profile { stages })
    }

    /// Cluster seconds the load lasts.
    pub fn seconds(&self) -> f64 {
        self.stages.iter().map(|s| s.duration.as_secs_f64()).sum()
    }

    /// The rate `t` cluster seconds into the load (0 outside it).
    pub fn rate_at(&self, t: f64) -> f64 {
        let mut start = 0.0;
        for s in &self.stages {
            let d = s.duration.as_secs_f64();
            if t >= start && t < start + d {
                return s.from + (s.to - s.from) * (t - start) / d;
            }
            start += d;
        }
        0.0
    }

    /// loadgen's `--stages` for the lab.
    pub fn scaled(&self, load_scale: f64, time_scale: f64) -> String {
        let scaled: Vec<String> = self
            .stages
            .iter()
            .map(|s| {
                let d = Duration::from_secs_f64(s.duration.as_secs_f64() * time_scale);
                // Rounded to a thousandth: 6000 × 0.1 is 600.0000000000001 in f64.
                let round = |r: f64| (r * load_scale * 1000.0).round() / 1000.0;
                let (from, to) = (round(s.from), round(s.to));
                let rates = if from == to {
                    format!("{from}")
                } else {
                    format!("{from}-{to}")
                };
                format!("{}:{rates}", duration::format(d))
            })
            .collect();
        scaled.join(",")
    }
}

/// Cumulative counts from loadgen's latest progress line.
#[derive(Clone, Copy, Default, Debug)]
pub struct Progress {
    pub completed: u64,
    pub errors: u64,
}

pub struct Load {
    child: Child,
    pub progress: Arc<Mutex<Progress>>,
}

impl Load {
    pub fn start(app_bin: &Path, service: SocketAddr, stages: &str, concurrency: u32, tick: Duration) -> Load {
        let mut child = Command::new(app_bin)
            .arg("loadgen")
            .arg(format!("--url=http://{service}/"))
            .arg(format!("--stages={stages}"))
            .args(["--connection=close", "--output=json"])
            .arg(format!("--concurrency={concurrency}"))
            .arg(format!("--progress={}ms", tick.as_millis().max(1)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start loadgen");
        let progress = Arc::new(Mutex::new(Progress::default()));
        let shared = progress.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(p) = parse_progress(&line) {
                    *shared.lock().unwrap() = p;
                }
            }
        });
        Load { child, progress }
    }

    pub fn finished(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The JSON summary, once loadgen has exited.
    pub fn summary(mut self) -> serde_json::Value {
        use std::io::Read;
        let mut out = String::new();
        let _ = self.child.stdout.take().unwrap().read_to_string(&mut out);
        let _ = self.child.wait();
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `loadgen: 5.0s/12s sent 1000 completed 1000 errors 0 late 0 rate 200.0/s`.
fn parse_progress(line: &str) -> Option<Progress> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |key: &str| -> Option<u64> {
        let i = words.iter().position(|w| *w == key)?;
        words.get(i + 1)?.parse().ok()
    };
    Some(Progress {
        completed: after("completed")?,
        errors: after("errors")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_scales_and_reads() {
        let p = Profile::parse("1m:0-6000,4m:6000,30s:6000-0").unwrap();
        assert_eq!(p.seconds(), 330.0);
        assert_eq!(p.rate_at(30.0), 3000.0);
        assert_eq!(p.rate_at(100.0), 6000.0);
        assert_eq!(p.rate_at(330.0), 0.0);
        assert_eq!(p.scaled(0.1, 1.0), "1m:0-600,4m:600,30s:600-0");
        assert_eq!(p.scaled(0.1, 0.1), "6s:0-600,24s:600,3s:600-0");
        let line = "loadgen: 5.0s/12s sent 1000 completed 998 errors 2 late 0 rate 200.0/s";
        let got = parse_progress(line).unwrap();
        assert_eq!((got.completed, got.errors), (998, 2));
    }
}
