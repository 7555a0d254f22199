//! custom.metrics.k8s.io as prometheus-adapter serves it to the HPA: the
//! rules of deploy/prometheus-adapter-values.yaml, their series discovered
//! once (the adapter's relist), and at each HPA sync the rule's
//! `metricsQuery` rendered for the HPA's pods and run on the real Prometheus.

use std::collections::BTreeMap;

use crate::common::prometheus::Prometheus;
use crate::e2e::adapter;
use crate::e2e::manifests::AdapterRule;

/// One metric of the HPA and the rule that serves it.
pub struct Source {
    pub metric: String,
    rule: AdapterRule,
    series: String,
}

pub struct MetricsApi {
    pub sources: Vec<Source>,
    namespace: String,
    /// Range windows times this (lab time scale, window override).
    window_factor: f64,
}

impl MetricsApi {
    /// Maps every HPA metric to its rule; `None` while Prometheus has no
    /// series for some rule yet (the adapter would not list the metric).
    pub fn discover(
        prom: &Prometheus,
        rules: &[AdapterRule],
        metrics: &[String],
        namespace: &str,
        window_factor: f64,
    ) -> Option<MetricsApi> {
        let mut by_metric = BTreeMap::new();
        for rule in rules {
            let found = prom.series(&rule.series_query);
            let mut names: Vec<&str> = found.iter().filter_map(|s| s["__name__"].as_str()).collect();
            names.sort_unstable();
            names.dedup();
            if names.len() != 1 {
                return None;
            }
            let series = names[0].to_owned();
            by_metric.insert(adapter::metric_name(rule, &series), (rule.clone(), series));
        }
        let sources = metrics
            .iter()
            .map(|m| {
                let (rule, series) = by_metric
                    .remove(m)
                    .unwrap_or_else(|| panic!("no adapter rule serves the HPA's metric {m}"));
                Source {
                    metric: m.clone(),
                    rule,
                    series,
                }
            })
            .collect();
        Some(MetricsApi {
            sources,
            namespace: namespace.into(),
            window_factor,
        })
    }

    /// The range window of the first source that has one (cluster seconds).
    pub fn window_seconds(rules: &[AdapterRule]) -> f64 {
        rules
            .iter()
            .flat_map(|r| adapter::windows(&r.metrics_query))
            .next()
            .map_or(0.0, |w| w.as_secs_f64())
    }

    /// The PromQL the lab runs for `source` and `pods`.
    pub fn query(&self, source: &Source, pods: &[&str]) -> String {
        let rendered = adapter::render(&source.rule, &source.series, &self.namespace, pods);
        adapter::scale_windows(&rendered, self.window_factor)
    }

    /// Each source's value per pod (pods without a value are absent).
    pub fn read(&self, prom: &Prometheus, pods: &[&str]) -> Vec<BTreeMap<String, f64>> {
        self.sources
            .iter()
            .map(|source| {
                let pod_label = adapter::resource_label(&source.rule, "pod");
                prom.query(&self.query(source, pods), None)
                    .into_iter()
                    .filter_map(|(labels, v)| Some((labels[pod_label].as_str()?.to_owned(), v)))
                    .collect()
            })
            .collect()
    }
}
