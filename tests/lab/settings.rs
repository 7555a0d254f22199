//! What a lab run uses: deploy/'s settings, and the lab-only overrides
//! (each one listed in the output as such).

use std::path::PathBuf;

/// Which autoscaler front end serves the metrics to the modelled HPA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// prometheus-adapter's rules (deploy/prometheus-adapter-values.yaml).
    Adapter,
    /// KEDA's ScaledObject (`kubectl kustomize deploy/overlays/keda`).
    Keda,
}

impl Route {
    pub fn describe(self) -> &'static str {
        match self {
            Route::Adapter => "prometheus-adapter route (deploy/prometheus-adapter-values.yaml, deploy/base/hpa.yaml)",
            Route::Keda => "KEDA route (kubectl kustomize deploy/overlays/keda: ScaledObject triggers and behavior)",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub app_bin: PathBuf,
    /// Where the timeline (JSON, CSV) and chart go.
    pub out_dir: PathBuf,
    /// File name stem of the outputs.
    pub name: String,
    pub route: Route,
    /// loadgen `--stages`, in cluster requests/s and cluster time.
    pub stages: String,
    /// Lab override: loadgen's rates and the HPA's `qps` target times this.
    pub load_scale: f64,
    /// Lab override: every duration times this (1 = real time).
    pub time_scale: f64,
    /// Lab override of the ServiceMonitor's interval (cluster seconds).
    pub scrape_interval: Option<f64>,
    /// Lab override of the rules' range windows (cluster seconds).
    pub window: Option<f64>,
    /// Lab override of the HPA's scale-down stabilization (seconds).
    pub scale_down_window: Option<f64>,
    /// kube-controller-manager's `--horizontal-pod-autoscaler-sync-period`.
    pub sync_period: f64,
    /// loadgen `--concurrency`.
    pub concurrency: u32,
    /// Longest watch after the load for the replicas to come back to the
    /// minimum (cluster seconds).
    pub max_tail: f64,
}

impl Settings {
    /// The deploy/ defaults: the staged Job's profile at a tenth of its
    /// rate and of the qps target (a 2-core machine cannot push 6000
    /// connections/s through a proxy into ten processes), in real time.
    pub fn defaults(app_bin: PathBuf, stages: String) -> Settings {
        Settings {
            app_bin,
            out_dir: PathBuf::from("target/autoscale-lab"),
            name: "timeline".into(),
            route: Route::Adapter,
            stages,
            load_scale: 0.1,
            time_scale: 1.0,
            scrape_interval: None,
            window: None,
            scale_down_window: None,
            sync_period: 15.0,
            concurrency: 64,
            max_tail: 900.0,
        }
    }

    /// Lab-only settings in effect, one line each, for every output.
    pub fn overrides(&self, deploy_scrape: f64, deploy_window: f64, deploy_down_window: f64) -> Vec<String> {
        let mut out = Vec::new();
        if self.load_scale != 1.0 {
            out.push(format!(
                "load x{}: loadgen's rates and the HPA's qps target (replica counts unchanged)",
                self.load_scale
            ));
        }
        if self.time_scale != 1.0 {
            out.push(format!(
                "time x{}: every interval, window, period and stage runs this much faster; times are reported in cluster seconds",
                self.time_scale
            ));
        }
        if let Some(s) = self.scrape_interval.filter(|s| *s != deploy_scrape) {
            out.push(format!("scrape interval {s}s (ServiceMonitor: {deploy_scrape}s)"));
        }
        if let Some(w) = self.window.filter(|w| *w != deploy_window) {
            out.push(format!("rate window {w}s (adapter rules: {deploy_window}s)"));
        }
        if let Some(w) = self.scale_down_window.filter(|w| *w != deploy_down_window) {
            out.push(format!(
                "scale-down stabilization {w}s (hpa.yaml: {deploy_down_window}s)"
            ));
        }
        if self.sync_period != 15.0 {
            out.push(format!("HPA sync period {}s (Kubernetes: 15s)", self.sync_period));
        }
        out
    }
}
