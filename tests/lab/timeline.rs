//! The lab's record: one row per second (cluster time) and the HPA's syncs,
//! written as JSON (with the settings and the summary) and CSV.

use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct Row {
    /// Cluster seconds since the load started.
    pub t: f64,
    /// The profile's rate now (loadgen's schedule, requests/s).
    pub offered_rps: f64,
    /// Responses loadgen received over the last second.
    pub served_rps: f64,
    /// Requests without a response so far (loadgen), and connections the
    /// Service could not hand to a pod (refused, reset, no endpoint).
    pub errors: u64,
    pub service_failures: u64,
    /// The per-pod averages the HPA computed at its last sync.
    pub hpa_qps: Option<f64>,
    pub hpa_temperature: Option<f64>,
    /// The HPA's `desiredReplicas` (the Deployment's `spec.replicas`).
    pub desired: u32,
    /// Pods in the Service's endpoints; pods not terminating; terminating.
    pub ready: u32,
    pub pods: u32,
    pub terminating: u32,
    /// This row holds an HPA sync.
    pub sync: bool,
}

impl Row {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "t": self.t,
            "offered_rps": self.offered_rps,
            "served_rps": self.served_rps,
            "errors": self.errors,
            "service_failures": self.service_failures,
            "hpa_qps": self.hpa_qps,
            "hpa_temperature": self.hpa_temperature,
            "desired": self.desired,
            "ready": self.ready,
            "pods": self.pods,
            "terminating": self.terminating,
            "sync": self.sync,
        })
    }
}

pub struct Timeline {
    pub rows: Vec<Row>,
}

impl Timeline {
    pub fn csv(&self) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        let mut out = String::from(
            "t,offered_rps,served_rps,errors,service_failures,hpa_qps,hpa_temperature,desired,ready,pods,terminating,sync\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:.1},{:.1},{:.1},{},{},{},{},{},{},{},{},{}",
                r.t,
                r.offered_rps,
                r.served_rps,
                r.errors,
                r.service_failures,
                opt(r.hpa_qps),
                opt(r.hpa_temperature),
                r.desired,
                r.ready,
                r.pods,
                r.terminating,
                u8::from(r.sync)
            );
        }
        out
    }

    /// `<dir>/<name>.json`, `.csv` (and the chart beside them, see chart.rs).
    pub fn write(&self, dir: &Path, name: &str, header: serde_json::Value) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut json = header;
        json["rows"] = self.rows.iter().map(Row::json).collect();
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(&json).unwrap() + "\n",
        )?;
        std::fs::write(dir.join(format!("{name}.csv")), self.csv())
    }
}
