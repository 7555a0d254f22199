//! A real Prometheus (Debian's package) on a free loopback port, started
//! with a given config and queried through its HTTP API; stopped and its
//! data removed when dropped. Every wait is bounded.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http10_get as get;

pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    /// Starts Prometheus with `config` and waits (bounded) until it is ready.
    pub fn start(config: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("cma-prometheus-{}-{}", std::process::id(), super::free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", super::free_port()).parse().unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("start prometheus");
        let p = Prometheus { child, addr, dir };
        p.wait_for("Prometheus ready", Duration::from_secs(60), |p| {
            get(p.addr, "/-/ready").is_some_and(|(status, _)| status == 200)
        });
        p
    }

    /// The log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// Polls `ok` every 250 ms until it holds; panics after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, mut ok: impl FnMut(&Prometheus) -> bool) {
        let start = Instant::now();
        while !ok(self) {
            assert!(
                start.elapsed() < limit,
                "{what}: not within {limit:?}\n--- prometheus log ---\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Polls `promql` until it has exactly one series with value `want`;
    /// returns that series' labels.
    pub fn wait_for_value(&self, promql: &str, want: f64) -> serde_json::Value {
        let mut labels = serde_json::Value::Null;
        self.wait_for(&format!("{promql} == {want}"), Duration::from_secs(30), |p| {
            let r = p.query(promql, None);
            let found = r.len() == 1 && r[0].1 == want;
            if found {
                labels = r[0].0.clone();
            }
            found
        });
        labels
    }

    /// An instant query, at `time` (Unix seconds) or now: (labels, value) per series.
    pub fn query(&self, promql: &str, time: Option<f64>) -> Vec<(serde_json::Value, f64)> {
        let mut path = format!("/api/v1/query?query={}", encode(promql));
        if let Some(t) = time {
            path += &format!("&time={t:.3}");
        }
        let data = self.api(&path);
        data["result"]
            .as_array()
            .expect("a vector result")
            .iter()
            .map(|s| {
                let v = s["value"][1].as_str().expect("sample value");
                (s["metric"].clone(), v.parse().expect("a number"))
            })
            .collect()
    }

    /// The series API, as the adapter lists series for a rule's seriesQuery.
    pub fn series(&self, selector: &str) -> Vec<serde_json::Value> {
        let data = self.api(&format!("/api/v1/series?match[]={}", encode(selector)));
        data.as_array().expect("a list of series").clone()
    }

    fn api(&self, path: &str) -> serde_json::Value {
        let (status, body) = get(self.addr, path).unwrap_or_else(|| panic!("GET {path}: no answer"));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(status, 200, "GET {path}: {v}");
        assert_eq!(v["status"], "success", "GET {path}: {v}");
        v["data"].clone()
    }
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
