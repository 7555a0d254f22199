//! The scrape config of a real Prometheus (see `common::prometheus`) that
//! scrapes the test's "pods" the way the Prometheus Operator scrapes a ServiceMonitor:
//! one job, the endpoint's path and scheme, and relabeling that turns the
//! Kubernetes discovery labels into `namespace`, `pod`, `service`,
//! `container`, `endpoint` and `job`. Targets (static, or a file_sd file
//! for pods that come and go) carry the `__meta_*` labels Kubernetes service
//! discovery would have set, so the relabel rules are the operator's own,
//! not a shortcut.

use std::net::SocketAddr;
use std::time::Duration;

use super::manifests::ScrapeEndpoint;

/// One scrape target: a pod name and where it listens.
pub struct Target<'a> {
    pub pod: &'a str,
    pub addr: SocketAddr,
}

/// The scrape config the operator would generate for `endpoint`, with
/// `interval` and `timeout` in place of the endpoint's (the test scrapes
/// faster), and `targets` as static target groups.
pub fn scrape_config(
    endpoint: &ScrapeEndpoint,
    interval: Duration,
    timeout: Duration,
    namespace: &str,
    service: &str,
    targets: &[Target],
) -> String {
    // YAML takes JSON as a flow sequence: the same groups a file_sd file holds.
    let groups = target_groups(endpoint, namespace, service, targets);
    job(
        endpoint,
        interval,
        timeout,
        namespace,
        service,
        &format!("    static_configs: {groups}\n"),
    )
}

/// The same job with file-based service discovery: Prometheus watches
/// `file` (written with [`target_groups`]) and picks up pods as they come
/// and go, as Kubernetes service discovery does from a watch.
pub fn file_sd_config(
    endpoint: &ScrapeEndpoint,
    interval: Duration,
    timeout: Duration,
    namespace: &str,
    service: &str,
    file: &std::path::Path,
) -> String {
    // The file is watched (inotify); the refresh is only a backstop.
    let discovery = format!(
        "    file_sd_configs:\n      - files: ['{}']\n        refresh_interval: 30s\n",
        file.display()
    );
    job(endpoint, interval, timeout, namespace, service, &discovery)
}

/// Target groups (file_sd's JSON) carrying the `__meta_*` labels that
/// Kubernetes service discovery sets for each pod of an endpoints-role job.
pub fn target_groups(endpoint: &ScrapeEndpoint, namespace: &str, service: &str, targets: &[Target]) -> String {
    let groups: Vec<serde_json::Value> = targets
        .iter()
        .map(|t| {
            serde_json::json!({
                "targets": [t.addr.to_string()],
                "labels": {
                    "__meta_kubernetes_namespace": namespace,
                    "__meta_kubernetes_service_name": service,
                    "__meta_kubernetes_pod_name": t.pod,
                    "__meta_kubernetes_pod_container_name": service,
                    "__meta_kubernetes_endpoint_port_name": endpoint.port,
                },
            })
        })
        .collect();
    serde_json::Value::Array(groups).to_string()
}

fn job(
    endpoint: &ScrapeEndpoint,
    interval: Duration,
    timeout: Duration,
    namespace: &str,
    service: &str,
    discovery: &str,
) -> String {
    let ms = |d: Duration| format!("{}ms", d.as_millis());
    let mut yaml = format!(
        "global:\n  scrape_interval: {i}\n  scrape_timeout: {t}\n\
         scrape_configs:\n\
         \x20 - job_name: serviceMonitor/{namespace}/{service}/0\n\
         \x20   scrape_interval: {i}\n\
         \x20   scrape_timeout: {t}\n\
         \x20   metrics_path: {path}\n\
         \x20   scheme: {scheme}\n",
        i = ms(interval),
        t = ms(timeout),
        path = endpoint.path,
        scheme = endpoint.scheme,
    );
    yaml += discovery;
    // The operator's relabelings for an endpoints-role ServiceMonitor (the
    // ones that name the labels the adapter rules and the HPA rely on).
    yaml += &format!(
        "    relabel_configs:\n\
         \x20     - source_labels: [__meta_kubernetes_endpoint_port_name]\n\
         \x20       regex: {port}\n\
         \x20       action: keep\n\
         \x20     - source_labels: [__meta_kubernetes_namespace]\n\
         \x20       target_label: namespace\n\
         \x20     - source_labels: [__meta_kubernetes_service_name]\n\
         \x20       target_label: service\n\
         \x20     - source_labels: [__meta_kubernetes_pod_name]\n\
         \x20       target_label: pod\n\
         \x20     - source_labels: [__meta_kubernetes_pod_container_name]\n\
         \x20       target_label: container\n\
         \x20     - source_labels: [__meta_kubernetes_service_name]\n\
         \x20       target_label: job\n\
         \x20     - target_label: endpoint\n\
         \x20       replacement: {port}\n",
        port = endpoint.port,
    );
    yaml
}
