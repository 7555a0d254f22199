//! The ordered checks. Each reads what it needs from the app, Prometheus's
//! HTTP API, deploy/ or `kubectl`, and returns one `Outcome`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::cluster;
use super::get::{encode, get};
use super::queries::{self, Queries};
use super::report::Outcome;
use super::{DoctorArgs, Route};

const METRICS: [&str; 2] = ["total_req_num", "cpu_temperature_celsius"];

pub(super) fn all(args: &DoctorArgs) -> Vec<Outcome> {
    let targets = prometheus_api(args, "/api/v1/targets?state=active");
    let mine: Vec<Value> = match &targets {
        Ok(t) => t["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["labels"]["job"] == args.job.as_str())
            .cloned()
            .collect(),
        Err(_) => Vec::new(),
    };
    let queries = queries::load(args);
    let mut outcomes = vec![
        app_metrics(args),
        target_up(args, &targets, &mine),
        cluster::selectors(args),
        series_labels(args),
        rate_window(&queries, &mine),
        route_queries(args, &queries),
    ];
    outcomes.extend(cluster::all(args));
    outcomes
}

fn prometheus_api(args: &DoctorArgs, path: &str) -> Result<Value, String> {
    let (status, body) = get(&args.prometheus, path)?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("GET {path}: HTTP {status}, not JSON: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("GET {path}: HTTP {status}: {}", v["error"]));
    }
    Ok(v["data"].clone())
}

fn query(args: &DoctorArgs, promql: &str) -> Result<Vec<Value>, String> {
    let data = prometheus_api(args, &format!("/api/v1/query?query={}", encode(promql)))?;
    Ok(data["result"].as_array().cloned().unwrap_or_default())
}

fn app_metrics(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "app exports its metrics";
    let Some(app) = &args.app else {
        return Outcome::skipped(
            NAME,
            "no --app given",
            "pass --app http://HOST:PORT (kubectl port-forward svc/custom-metrics-app 8080:80)",
        );
    };
    let (status, body) = match get(app, "/metrics") {
        Ok(r) => r,
        Err(e) => {
            return Outcome::failed(
                NAME,
                e,
                "start the app (kubectl get pods -l app=custom-metrics-app) or give its right --app address",
            )
        }
    };
    if status != 200 {
        return Outcome::failed(
            NAME,
            format!("GET /metrics: HTTP {status}"),
            "point --app at custom-metrics-app, which serves /metrics",
        );
    }
    let missing: Vec<_> = METRICS
        .iter()
        .filter(|m| {
            !body
                .lines()
                .any(|l| l.strip_prefix(**m).is_some_and(|r| r.starts_with(['{', ' '])))
        })
        .collect();
    if missing.is_empty() {
        Outcome::passed(
            NAME,
            "GET /metrics: HTTP 200 with total_req_num and cpu_temperature_celsius",
        )
    } else {
        Outcome::failed(
            NAME,
            format!("GET /metrics: HTTP 200 without {missing:?}"),
            "run the custom-metrics-app image at --app: the adapter rules need total_req_num and cpu_temperature_celsius",
        )
    }
}

fn target_up(args: &DoctorArgs, targets: &Result<Value, String>, mine: &[Value]) -> Outcome {
    const NAME: &str = "Prometheus scrapes the app";
    let all = match targets {
        Ok(t) => t["activeTargets"].as_array().cloned().unwrap_or_default(),
        Err(e) => return Outcome::failed(NAME, e.clone(), "give --prometheus the Prometheus URL (kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090)"),
    };
    if mine.is_empty() {
        let jobs: Vec<String> = all
            .iter()
            .filter_map(|t| t["labels"]["job"].as_str().map(String::from))
            .collect();
        // The app scraped under another job name: found by its address.
        let by_addr = args.app.as_ref().and_then(|app| {
            let addr = format!("{}:{}", app.host, app.port);
            all.iter().find(|t| t["labels"]["instance"] == addr.as_str())
        });
        if let Some(t) = by_addr {
            return Outcome::failed(
                NAME,
                format!(
                    "the app's target has job=\"{}\", not \"{}\"",
                    t["labels"]["job"].as_str().unwrap_or(""),
                    args.job
                ),
                format!(
                    "scrape it as job=\"{}\" (the ServiceMonitor's Service name; the queries select it), or pass --job",
                    args.job
                ),
            );
        }
        return Outcome::failed(
            NAME,
            format!("no active target with job=\"{}\"; jobs seen: {jobs:?}", args.job),
            format!("check that Prometheus selects the ServiceMonitor: kubectl -n {} get servicemonitor custom-metrics-app -o jsonpath='{{.metadata.labels}}' and the Prometheus object's serviceMonitorSelector (the release label)", args.namespace),
        );
    }
    // Listed but not scraped yet: nothing to judge until one interval passes.
    if mine.iter().all(|t| t["health"] == "unknown") {
        return Outcome::skipped(
            NAME,
            format!("{} target(s) with job=\"{}\", not scraped yet", mine.len(), args.job),
            "run doctor again after one scrape interval",
        );
    }
    let down: Vec<String> = mine
        .iter()
        .filter(|t| t["health"] == "down")
        .map(|t| {
            format!(
                "{} {}: {}",
                t["scrapeUrl"].as_str().unwrap_or(""),
                t["health"].as_str().unwrap_or(""),
                t["lastError"].as_str().unwrap_or("")
            )
        })
        .collect();
    if down.is_empty() {
        Outcome::passed(
            NAME,
            format!("{} target(s) with job=\"{}\", all up", mine.len(), args.job),
        )
    } else {
        Outcome::failed(
            NAME,
            format!("down: {}", down.join("; ")),
            "make the pods answer /metrics on the Service's port (kubectl get endpoints custom-metrics-app)",
        )
    }
}

fn series_labels(args: &DoctorArgs) -> Outcome {
    const NAME: &str = "series carry namespace and pod labels";
    let sel = format!("total_req_num{{job=\"{}\"}}", args.job);
    let series = match prometheus_api(args, &format!("/api/v1/series?match[]={}", encode(&sel))) {
        Ok(s) => s.as_array().cloned().unwrap_or_default(),
        Err(e) => return Outcome::failed(NAME, e, "make Prometheus reachable at --prometheus"),
    };
    if series.is_empty() {
        return Outcome::failed(
            NAME,
            format!("no series for {sel}"),
            "fix the checks above: Prometheus has no total_req_num from the app",
        );
    }
    let bare = series
        .iter()
        .filter(|s| s["namespace"].as_str().unwrap_or("").is_empty() || s["pod"].as_str().unwrap_or("").is_empty())
        .count();
    if bare == 0 {
        Outcome::passed(
            NAME,
            format!("{} series of {sel}, all with namespace and pod", series.len()),
        )
    } else {
        Outcome::failed(
            NAME,
            format!("{bare} of {} series of {sel} lack namespace or pod", series.len()),
            "scrape through a ServiceMonitor (it adds namespace and pod), or relabel __meta_kubernetes_namespace/__meta_kubernetes_pod_name to namespace/pod",
        )
    }
}

/// Seconds as PromQL writes a range: `4m`, `90s`.
fn promql_duration(secs: f64) -> String {
    let secs = secs.ceil() as u64;
    if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

fn rate_window(queries: &Result<Queries, String>, mine: &[Value]) -> Outcome {
    const NAME: &str = "rate window >= 4 x scrape interval";
    let (window, from) = match queries {
        Ok(q) => match queries::rate_window(q) {
            Some((secs, written)) => (secs, format!("{} [{written}]", q.from)),
            None => {
                return Outcome::skipped(
                    NAME,
                    format!("{}: no rate() over total_req_num", q.from),
                    "pass --deploy DIR",
                )
            }
        },
        Err(e) => return Outcome::skipped(NAME, e.clone(), "run from the repository root or pass --deploy DIR"),
    };
    let Some(interval) = mine
        .iter()
        .filter_map(|t| t["scrapeInterval"].as_str())
        .filter_map(crate::grammar::duration::parse)
        .max()
    else {
        return Outcome::skipped(
            NAME,
            "no target for the app to read the scrape interval from",
            "fix 'Prometheus scrapes the app' first",
        );
    };
    let interval = interval.as_secs_f64();
    let evidence = format!("window {window}s ({from}), scrape interval {interval}s");
    if window >= 4.0 * interval {
        Outcome::passed(NAME, evidence)
    } else {
        Outcome::failed(
            NAME,
            evidence,
            format!(
                "set the ServiceMonitor's interval to {}s or less, or widen the window to [{}]",
                (window / 4.0).floor(),
                promql_duration(4.0 * interval)
            ),
        )
    }
}

fn route_queries(args: &DoctorArgs, queries: &Result<Queries, String>) -> Outcome {
    const NAME: &str = "route queries return one value per pod (adapter) / one sample (keda)";
    let queries = match queries {
        Ok(q) if !q.list.is_empty() => &q.list,
        Ok(q) => return Outcome::skipped(NAME, format!("no queries in {}", q.from), "pass --deploy DIR"),
        Err(e) => return Outcome::skipped(NAME, e.clone(), "run from the repository root or pass --deploy DIR"),
    };
    let mut seen = Vec::new();
    let mut bad = Vec::new();
    let mut unanswered = Vec::new();
    for (name, q) in queries {
        let result = match query(args, q) {
            Ok(r) => r,
            Err(e) => {
                unanswered.push(format!("{name}: {e}"));
                continue;
            }
        };
        let values: Vec<String> = result
            .iter()
            .map(|s| {
                let value = s["value"][1].as_str().unwrap_or("?");
                match s["metric"]["pod"].as_str() {
                    Some(pod) => format!("{pod}={value}"),
                    None => value.to_string(),
                }
            })
            .collect();
        let mut per_pod: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &result {
            *per_pod.entry(s["metric"]["pod"].as_str().unwrap_or("")).or_default() += 1;
        }
        // A rule for a series the app exports only with real sensors
        // (cpu_temperature_trip_ratio) may find nothing: not a fault.
        if result.is_empty() && args.route == Route::Adapter && !METRICS.contains(&name.as_str()) {
            seen.push(format!("{name}: no series (optional, real sensors only)"));
            continue;
        }
        let ok = match args.route {
            Route::Adapter => !result.is_empty() && per_pod.iter().all(|(pod, n)| !pod.is_empty() && *n == 1),
            Route::Keda => result.len() == 1,
        };
        let line = format!("{q} -> {} sample(s) [{}]", result.len(), values.join(", "));
        if ok {
            seen.push(line);
        } else {
            bad.push(line);
        }
    }
    if !unanswered.is_empty() {
        return Outcome::failed(NAME, unanswered.join("; "), "make Prometheus answer at --prometheus; a query it rejects is a syntax error in deploy/ or the cluster's rules");
    }
    if bad.is_empty() {
        Outcome::passed(NAME, seen.join("; "))
    } else {
        let fix = match args.route {
            Route::Adapter => "each query must give one series per pod: fix the labels and target above, or aggregate by (pod) in metricsQuery",
            Route::Keda => "each trigger's query must return exactly one sample: wrap it in sum(...) and check --namespace and job match the target",
        };
        Outcome::failed(NAME, bad.join("; "), fix)
    }
}
