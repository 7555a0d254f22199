//! The cluster side, through `kubectl`: does Prometheus select the
//! ServiceMonitor and PrometheusRule, is the metrics APIService Available,
//! does the metrics API return items, and what the HPA says. Without
//! `kubectl` each is skipped with the command to run instead.

use serde_json::Value;

use super::kubectl::{self, plain, quantity, Failure};
use super::report::Outcome;
use super::{DoctorArgs, Route};

const APP: &str = "custom-metrics-app";
/// The HPA leaves replicas alone while current/target is within 10 %.
const TOLERANCE: f64 = 0.1;

/// The checks after the route's queries, in order.
pub(super) fn all(args: &DoctorArgs) -> Vec<Outcome> {
    vec![apiservice(args), metrics_api(args), hpa(args)]
}

fn api_group(route: Route) -> &'static str {
    match route {
        Route::Adapter => "custom.metrics.k8s.io",
        Route::Keda => "external.metrics.k8s.io",
    }
}

fn skipped_or_failed(name: &'static str, failure: Failure, instead: String, fix: &str) -> Outcome {
    match failure {
        Failure::Missing => Outcome::skipped(name, "no kubectl on PATH", instead),
        Failure::NoCluster(e) => Outcome::skipped(name, e, instead),
        Failure::Error(e) => Outcome::failed(name, e, fix),
    }
}

/// Whether `labels` satisfy a Kubernetes label selector; `None` for a
/// null selector (which Prometheus Operator reads as "select nothing").
fn selects(selector: &Value, labels: &Value) -> Option<bool> {
    if selector.is_null() {
        return None;
    }
    let label = |k: &str| labels[k].as_str();
    let by_labels = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let by_expressions = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or("") {
                "In" => label(key).is_some_and(|v| values.contains(&v)),
                "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        })
    });
    Some(by_labels && by_expressions)
}

/// The labels a selector's matchLabels ask for that `labels` lack, as `k=v`.
fn missing_labels(selector: &Value, labels: &Value) -> Vec<String> {
    selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| labels[k.as_str()].as_str() != v.as_str())
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect()
}

/// Whether the Prometheus object watches `ns` (a null namespace selector
/// means only its own namespace; a label selector is taken as yes).
fn watches_namespace(prometheus: &Value, selector_field: &str, ns: &str) -> bool {
    let sel = &prometheus["spec"][selector_field];
    !sel.is_null() || prometheus["metadata"]["namespace"] == ns
}

pub(super) fn selectors(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "Prometheus selects the ServiceMonitor and PrometheusRule";
    let ns = args.namespace.as_str();
    let instead = format!(
        "kubectl -n {ns} get servicemonitor,prometheusrule {APP} --show-labels; kubectl get prometheus -A -o jsonpath='{{..serviceMonitorSelector}} {{..ruleSelector}}'"
    );
    let sm = match kubectl::json(&["get", "servicemonitor", APP, "-n", ns, "-o", "json"]) {
        Ok(v) => v,
        Err(f) => {
            return skipped_or_failed(
                NAME,
                f,
                instead,
                "kubectl apply -k deploy/base (kube-prometheus-stack provides the ServiceMonitor CRD)",
            )
        }
    };
    let proms = match kubectl::json(&["get", "prometheus", "-A", "-o", "json"]) {
        Ok(v) => v["items"].as_array().cloned().unwrap_or_default(),
        Err(f) => {
            return skipped_or_failed(
                NAME,
                f,
                instead,
                "install kube-prometheus-stack (it creates the Prometheus object)",
            )
        }
    };
    let Some(prom) = proms.first() else {
        return Outcome::failed(
            NAME,
            "no Prometheus object in the cluster",
            "install kube-prometheus-stack (it creates the Prometheus object)",
        );
    };
    let prom_name = format!(
        "prometheus {}/{}",
        prom["metadata"]["namespace"].as_str().unwrap_or(""),
        prom["metadata"]["name"].as_str().unwrap_or("")
    );
    let sm_labels = &sm["metadata"]["labels"];
    let sm_sel = &prom["spec"]["serviceMonitorSelector"];
    let mut evidence = vec![format!(
        "servicemonitor {ns}/{APP} labels {sm_labels}; {prom_name} serviceMonitorSelector {sm_sel}"
    )];
    if !watches_namespace(prom, "serviceMonitorNamespaceSelector", ns) {
        return Outcome::failed(
            NAME,
            evidence.join("; ") + &format!("; serviceMonitorNamespaceSelector is null: only its own namespace is watched, not {ns}"),
            "set serviceMonitorNamespaceSelector: {} on the Prometheus object (Helm: prometheus.prometheusSpec.serviceMonitorNamespaceSelector)",
        );
    }
    match selects(sm_sel, sm_labels) {
        Some(true) => {}
        Some(false) => {
            let missing = missing_labels(sm_sel, sm_labels);
            let fix = if missing.is_empty() {
                "make the ServiceMonitor's labels satisfy the selector's matchExpressions".to_string()
            } else {
                format!("kubectl -n {ns} label servicemonitor {APP} {} (deploy/base: the ServiceMonitor's labels)", missing.join(" "))
            };
            return Outcome::failed(NAME, evidence.join("; "), fix);
        }
        None => {
            return Outcome::failed(
                NAME,
                evidence.join("; ") + "; a null selector selects no ServiceMonitor",
                "set prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues=false in kube-prometheus-stack's values",
            )
        }
    }
    // The PrometheusRule is optional (the alerts); when it is there it must be selected too.
    if let Ok(rule) = kubectl::json(&["get", "prometheusrule", APP, "-n", ns, "-o", "json"]) {
        let rule_labels = &rule["metadata"]["labels"];
        let rule_sel = &prom["spec"]["ruleSelector"];
        evidence.push(format!("prometheusrule labels {rule_labels}; ruleSelector {rule_sel}"));
        if selects(rule_sel, rule_labels) != Some(true) {
            let missing = missing_labels(rule_sel, rule_labels);
            return Outcome::failed(
                NAME,
                evidence.join("; "),
                format!("kubectl -n {ns} label prometheusrule {APP} {}", missing.join(" ")),
            );
        }
    }
    Outcome::passed(NAME, evidence.join("; "))
}

fn apiservice(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "metrics APIService is Available";
    let name = format!("v1beta1.{}", api_group(args.route));
    let instead = format!("kubectl get apiservice {name} -o wide");
    let v = match kubectl::json(&["get", "apiservice", &name, "-o", "json"]) {
        Ok(v) => v,
        Err(f) => {
            let fix = match args.route {
                Route::Adapter => "install prometheus-adapter with deploy/prometheus-adapter-values.yaml",
                Route::Keda => "install KEDA (helm upgrade --install keda kedacore/keda -n keda --create-namespace)",
            };
            return skipped_or_failed(NAME, f, instead, fix);
        }
    };
    let svc = &v["spec"]["service"];
    let backing = if svc.is_null() {
        "no Service (served locally)".to_string()
    } else {
        format!(
            "Service {}/{}",
            svc["namespace"].as_str().unwrap_or(""),
            svc["name"].as_str().unwrap_or("")
        )
    };
    let available = v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Available");
    let Some(c) = available else {
        return Outcome::failed(
            NAME,
            format!("{name} backed by {backing}: no Available condition"),
            format!("kubectl describe apiservice {name}"),
        );
    };
    let evidence = format!(
        "{name} backed by {backing}: Available={} {}: {}",
        c["status"].as_str().unwrap_or(""),
        c["reason"].as_str().unwrap_or(""),
        c["message"].as_str().unwrap_or("")
    );
    if c["status"] == "True" {
        return Outcome::passed(NAME, evidence);
    }
    let fix = match c["reason"].as_str() {
        Some("ServiceNotFound") => format!("the {backing} is missing: reinstall the server that owns {name}, or delete the stale APIService"),
        Some("MissingEndpoints") => format!("the {backing} has no ready pods: kubectl -n {} get pods and their logs", svc["namespace"].as_str().unwrap_or("")),
        _ => format!(
            "the API server cannot reach {backing} (FailedDiscoveryCheck): check its pods are ready and that the control plane can reach them on their port (firewall / network policy)"
        ),
    };
    Outcome::failed(NAME, evidence, fix)
}

fn hpa_json(args: &DoctorArgs) -> Result<Value, Failure> {
    kubectl::json(&["get", "hpa", APP, "-n", &args.namespace, "-o", "json"])
}

fn metrics_api(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "metrics API returns items";
    let ns = &args.namespace;
    let path = match args.route {
        Route::Adapter => format!("/apis/custom.metrics.k8s.io/v1beta1/namespaces/{ns}/pods/*/qps"),
        Route::Keda => {
            // KEDA names its external metrics (s0-prometheus, ...); the HPA it made has them.
            let hpa = match hpa_json(args) {
                Ok(h) => h,
                Err(f) => {
                    let instead = format!("kubectl -n {ns} get hpa {APP} -o jsonpath='{{.spec.metrics}}', then kubectl get --raw for that metric");
                    return skipped_or_failed(
                        NAME,
                        f,
                        instead,
                        "kubectl apply -k deploy/overlays/keda (KEDA creates the HPA)",
                    );
                }
            };
            let metric = Some(hpa).and_then(|h| {
                h["spec"]["metrics"]
                    .as_array()?
                    .iter()
                    .find_map(|m| m["external"]["metric"]["name"].as_str().map(String::from))
            });
            let Some(metric) = metric else {
                return Outcome::skipped(
                    NAME,
                    "no external metric on the HPA to ask for",
                    format!("kubectl get --raw '/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3D{APP}'"),
                );
            };
            format!("/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}?labelSelector=scaledobject.keda.sh%2Fname%3D{APP}")
        }
    };
    let v = match kubectl::json(&["get", "--raw", &path]) {
        Ok(v) => v,
        Err(f) => {
            return skipped_or_failed(
                NAME,
                f,
                format!("kubectl get --raw '{path}'"),
                "fix the APIService above; then the adapter's log (kubectl -n monitoring logs deploy/prometheus-adapter) says which query failed",
            )
        }
    };
    let items: Vec<String> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let who = i["describedObject"]["name"]
                .as_str()
                .or(i["metricName"].as_str())
                .unwrap_or("?");
            let raw = i["value"].as_str().unwrap_or("?");
            let number = quantity(raw).map_or("?".to_string(), plain);
            format!("{who}={number} ({raw})")
        })
        .collect();
    if items.is_empty() {
        Outcome::failed(
            NAME,
            format!("GET {path}: no items"),
            "the series reach Prometheus but not the API: check 'series carry namespace and pod labels' and the adapter's metricsRelistInterval (wait one relist)",
        )
    } else {
        Outcome::passed(NAME, format!("GET {path}: {}", items.join(", ")))
    }
}

/// (name, current, target) per metric of the HPA, in plain numbers.
fn hpa_ratios(h: &Value) -> Vec<(String, Option<f64>, Option<f64>)> {
    let current = h["status"]["currentMetrics"].as_array().cloned().unwrap_or_default();
    h["spec"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let kind = match m["type"].as_str()? {
                "Pods" => "pods",
                "External" => "external",
                "Object" => "object",
                _ => return None,
            };
            let name = m[kind]["metric"]["name"].as_str()?.to_string();
            let target = &m[kind]["target"];
            let field = if target["averageValue"].is_null() {
                "value"
            } else {
                "averageValue"
            };
            let want = target[field].as_str().and_then(quantity);
            let got = current
                .iter()
                .find(|c| c[kind]["metric"]["name"] == name.as_str())
                .and_then(|c| c[kind]["current"][field].as_str())
                .and_then(quantity);
            Some((name, got, want))
        })
        .collect()
}

fn hpa(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "HPA can scale and reads its metrics";
    let h = match hpa_json(args) {
        Ok(v) => v,
        Err(f) => {
            return skipped_or_failed(
                NAME,
                f,
                format!("kubectl -n {} describe hpa {APP}", args.namespace),
                "kubectl apply -k deploy/base (or deploy/overlays/keda, where KEDA creates the HPA)",
            )
        }
    };
    let conditions = h["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let mut evidence = Vec::new();
    let mut failing = None;
    for kind in ["AbleToScale", "ScalingActive"] {
        match conditions.iter().find(|c| c["type"] == kind) {
            Some(c) => {
                evidence.push(format!(
                    "{kind}={} {}: {}",
                    c["status"].as_str().unwrap_or(""),
                    c["reason"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or("")
                ));
                if c["status"] != "True" && failing.is_none() {
                    failing = Some((kind, c["reason"].as_str().unwrap_or("").to_string()));
                }
            }
            None => evidence.push(format!("{kind}: not reported yet")),
        }
    }
    for (name, got, want) in hpa_ratios(&h) {
        evidence.push(match (got, want) {
            (Some(g), Some(w)) if w > 0.0 => {
                let ratio = g / w;
                let verdict = if (ratio - 1.0).abs() <= TOLERANCE {
                    "within the 10 % tolerance: no change"
                } else if ratio > 1.0 {
                    "above: scales up"
                } else {
                    "below: scales down"
                };
                format!(
                    "{name} current {} / target {} = {ratio:.2} ({verdict})",
                    plain(g),
                    plain(w)
                )
            }
            (None, Some(w)) => format!("{name} current <unknown> / target {}", plain(w)),
            _ => format!("{name}: no target value"),
        });
    }
    match failing {
        None => Outcome::passed(NAME, evidence.join("; ")),
        Some((kind, reason)) => {
            let fix = match reason.as_str() {
                "FailedGetPodsMetric" | "FailedGetExternalMetric" | "FailedGetObjectMetric" => {
                    "the HPA cannot read its metric: fix 'metrics API returns items' (the metric name and namespace must match the adapter rule's 'as' name)".to_string()
                }
                "ScalingDisabled" => "the Deployment is scaled to 0: kubectl scale deploy/custom-metrics-app --replicas=1".to_string(),
                "FailedGetScale" => "the HPA's scaleTargetRef names no Deployment here: check spec.scaleTargetRef".to_string(),
                _ => format!("kubectl -n {} describe hpa {APP} (condition {kind}: {reason})", args.namespace),
            };
            Outcome::failed(NAME, evidence.join("; "), fix)
        }
    }
}
