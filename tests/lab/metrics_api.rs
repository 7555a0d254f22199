//! What the modelled HPA reads at each sync, by route, always from the real
//! Prometheus at that moment:
//! - prometheus-adapter (custom.metrics.k8s.io, `Pods` metrics): the rules of
//!   deploy/prometheus-adapter-values.yaml, their series discovered once (the
//!   adapter's relist), each `metricsQuery` rendered for the HPA's pods;
//! - KEDA (external.metrics.k8s.io, `External` AverageValue metrics): the
//!   triggers of `kubectl kustomize deploy/overlays/keda`, each query run
//!   when the HPA asks (KEDA's metrics server queries on request; its
//!   pollingInterval only drives activation, unused at minReplicaCount 1).
//!
//! The HPA's targets come with them; `qps`'s is times the load scale.

use std::collections::BTreeMap;

use crate::common::prometheus::Prometheus;
use crate::e2e::adapter;
use crate::e2e::hpa::{self, Phase, PodMetric};
use crate::e2e::hpa_behavior::Behavior;
use crate::e2e::keda::{self, Trigger};
use crate::e2e::manifests::{self, AdapterRule};

use super::settings::Route;

enum Kind {
    Adapter { rule: AdapterRule, series: String },
    Keda { trigger: Trigger },
}

/// One metric of the HPA and what serves it.
pub struct Source {
    pub metric: String,
    /// Per pod, in milli-units.
    pub target: i64,
    kind: Kind,
}

/// What the autoscaler is told to do: bounds, behavior, metrics.
pub struct Autoscaler {
    pub min: u32,
    pub max: u32,
    pub behavior: Behavior,
    pub sources: Vec<Source>,
    namespace: String,
    /// Range windows times this (lab time scale, window override).
    window_factor: f64,
}

/// A source's reading at one sync: its proposal and the per-pod value the
/// HPA worked with (for the timeline).
pub struct Reading {
    pub proposal: Option<u32>,
    pub per_pod: Option<f64>,
}

/// The range window of the adapter's qps rule, in seconds.
pub fn deploy_window(rules: &[AdapterRule]) -> f64 {
    rules
        .iter()
        .flat_map(|r| adapter::windows(&r.metrics_query))
        .next()
        .map_or(0.0, |w| w.as_secs_f64())
}

impl Autoscaler {
    /// The route's autoscaler; `None` while Prometheus lacks a rule's
    /// series (the adapter would not list the metric yet).
    pub fn discover(
        route: Route,
        prom: &Prometheus,
        namespace: &str,
        load_scale: f64,
        window_factor: f64,
    ) -> Option<Autoscaler> {
        let scale = |metric: &str, milli: i64| {
            let f = if metric == "qps" { load_scale } else { 1.0 };
            (milli as f64 * f).round() as i64
        };
        let (min, max, behavior, sources) = match route {
            Route::Adapter => {
                let hpa_spec = manifests::hpa();
                let (_, rules) = manifests::adapter_rules();
                let mut by_metric = BTreeMap::new();
                for rule in rules {
                    let found = prom.series(&rule.series_query);
                    let mut names: Vec<&str> = found.iter().filter_map(|s| s["__name__"].as_str()).collect();
                    names.sort_unstable();
                    names.dedup();
                    // A rule with no series yet (or none in this set-up, like
                    // a real sensor's) serves no metric, as in the adapter.
                    match names.len() {
                        0 => continue,
                        1 => {}
                        _ => return None,
                    }
                    let series = names[0].to_owned();
                    by_metric.insert(adapter::metric_name(&rule, &series), (rule, series));
                }
                // None until every HPA metric has its series (the first scrapes).
                let sources = hpa_spec
                    .targets
                    .iter()
                    .map(|t| {
                        let (rule, series) = by_metric.remove(&t.metric)?;
                        Some(Source {
                            metric: t.metric.clone(),
                            target: scale(&t.metric, hpa::milli(&t.average_value)),
                            kind: Kind::Adapter { rule, series },
                        })
                    })
                    .collect::<Option<Vec<Source>>>()?;
                (hpa_spec.min_replicas, hpa_spec.max_replicas, hpa_spec.behavior, sources)
            }
            Route::Keda => {
                let so = keda::rendered(&manifests::deploy_dir().join("overlays/keda"));
                let sources = so
                    .triggers
                    .iter()
                    .map(|t| {
                        assert_eq!(
                            t.metric_type, "AverageValue",
                            "trigger {}: only AverageValue is modelled",
                            t.name
                        );
                        Source {
                            metric: t.name.clone(),
                            target: scale(&t.name, hpa::milli(&t.threshold)),
                            kind: Kind::Keda { trigger: t.clone() },
                        }
                    })
                    .collect();
                (so.min_replicas.max(1), so.max_replicas, so.behavior, sources)
            }
        };
        Some(Autoscaler {
            min,
            max,
            behavior,
            sources,
            namespace: namespace.into(),
            window_factor,
        })
    }

    /// The PromQL the lab runs for `source` and `pods`.
    pub fn query(&self, source: &Source, pods: &[&str]) -> String {
        let promql = match &source.kind {
            Kind::Adapter { rule, series } => adapter::render(rule, series, &self.namespace, pods),
            Kind::Keda { trigger } => trigger.query.clone(),
        };
        adapter::scale_windows(&promql, self.window_factor)
    }

    /// Every source read at once: `pods` as the HPA lists them, and the
    /// scale's spec and status replicas.
    pub fn read(&self, prom: &Prometheus, pods: &[(String, Phase)], spec: u32, status: u32) -> Vec<Reading> {
        let names: Vec<&str> = pods.iter().map(|(n, _)| n.as_str()).collect();
        self.sources
            .iter()
            .map(|source| {
                let promql = self.query(source, &names);
                let result = prom.query(&promql, None);
                match &source.kind {
                    Kind::Adapter { rule, .. } => {
                        let pod_label = adapter::resource_label(rule, "pod");
                        let values: BTreeMap<&str, f64> = result
                            .iter()
                            .filter_map(|(l, v)| Some((l[pod_label].as_str()?, *v)))
                            .collect();
                        let metrics: Vec<PodMetric> = pods
                            .iter()
                            .map(|(name, phase)| PodMetric {
                                phase: *phase,
                                value: values.get(name.as_str()).map(|v| hpa::adapter_milli(*v)),
                            })
                            .collect();
                        let counted: Vec<i64> = metrics
                            .iter()
                            .filter(|m| m.phase != Phase::Deleting)
                            .filter_map(|m| m.value)
                            .collect();
                        Reading {
                            proposal: hpa::replicas_for_pods(&metrics, source.target, spec),
                            per_pod: (!counted.is_empty())
                                .then(|| counted.iter().sum::<i64>() as f64 / counted.len() as f64 / 1000.0),
                        }
                    }
                    Kind::Keda { trigger } => match keda::scaler_value(trigger, &promql, &result) {
                        Ok(v) => {
                            let served = keda::served_milli(v);
                            Reading {
                                proposal: Some(hpa::replicas_for_external_per_pod(&[served], source.target, status)),
                                per_pod: Some(served as f64 / 1000.0 / f64::from(status.max(1))),
                            }
                        }
                        Err(_) => Reading {
                            proposal: None,
                            per_pod: None,
                        },
                    },
                }
            })
            .collect()
    }
}
