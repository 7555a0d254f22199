//! The route's queries as the adapter renders them (or KEDA's, as written),
//! read from the cluster through `kubectl` when it can, else from deploy/.

use super::kubectl;
use super::{DoctorArgs, Route};

/// (series or query, rendered PromQL) pairs and where they were read.
pub(super) struct Queries {
    pub(super) list: Vec<(String, String)>,
    pub(super) from: String,
}

pub(super) fn load(args: &DoctorArgs) -> Result<Queries, String> {
    if let Some(q) = from_cluster(args) {
        return Ok(q);
    }
    let path = match args.route {
        Route::Adapter => args.deploy.join("prometheus-adapter-values.yaml"),
        Route::Keda => args.deploy.join("overlays/keda/scaledobject.yaml"),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = match args.route {
        Route::Adapter => adapter_rules(&text, &args.namespace),
        Route::Keda => keda_queries(&text, &args.namespace),
    };
    Ok(Queries {
        list,
        from: path.display().to_string(),
    })
}

/// The adapter's ConfigMap (its `config.yaml`) or the ScaledObject.
fn from_cluster(args: &DoctorArgs) -> Option<Queries> {
    match args.route {
        Route::Adapter => {
            let v = kubectl::json(&[
                "get",
                "configmap",
                "-A",
                "-l",
                "app.kubernetes.io/name=prometheus-adapter",
                "-o",
                "json",
            ])
            .ok()?;
            let item = v["items"].as_array()?.first()?;
            let text = item["data"]["config.yaml"].as_str()?;
            let from = format!(
                "configmap {}/{}",
                item["metadata"]["namespace"].as_str().unwrap_or(""),
                item["metadata"]["name"].as_str().unwrap_or("")
            );
            Some(Queries {
                list: adapter_rules(text, &args.namespace),
                from,
            })
        }
        Route::Keda => {
            let v = kubectl::json(&[
                "get",
                "scaledobject",
                "custom-metrics-app",
                "-n",
                &args.namespace,
                "-o",
                "json",
            ])
            .ok()?;
            let list = v["spec"]["triggers"]
                .as_array()?
                .iter()
                .filter(|t| t["type"] == "prometheus")
                .filter_map(|t| t["metadata"]["query"].as_str())
                .map(|q| (q.to_string(), q.to_string()))
                .collect();
            Some(Queries {
                list,
                from: format!("scaledobject {}/custom-metrics-app", args.namespace),
            })
        }
    }
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('\'').trim_matches('"')
}

/// Each rule's series name and its metricsQuery, rendered for a Pods
/// request in `ns` (the pod matcher stands for the adapter's list of pods).
/// A rule is a list item; its keys come in any order (the chart's toYaml
/// sorts them, so metricsQuery comes before seriesQuery there).
fn adapter_rules(text: &str, ns: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rule: (Option<String>, Option<String>) = (None, None);
    let mut flush = |rule: &mut (Option<String>, Option<String>)| {
        if let Some((series, query)) = rule.0.take().zip(rule.1.take()) {
            let q = query
                .replace("<<.Series>>", &series)
                .replace("<<.LabelMatchers>>", &format!("namespace=\"{ns}\",pod=~\".+\""))
                .replace("<<.GroupBy>>", "pod");
            out.push((series, q));
        }
    };
    for l in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let l = match l.strip_prefix("- ") {
            Some(rest) => {
                flush(&mut rule);
                rule = (None, None);
                rest
            }
            None => l,
        };
        if let Some(q) = l.strip_prefix("seriesQuery:") {
            rule.0 = Some(unquote(q).split('{').next().unwrap_or("").to_string());
        }
        if let Some(q) = l.strip_prefix("metricsQuery:") {
            rule.1 = Some(unquote(q).to_string());
        }
    }
    flush(&mut rule);
    out
}

/// The overlay's trigger queries, with the namespace kustomize writes in.
fn keda_queries(text: &str, ns: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("query:"))
        .map(|q| unquote(q).replace("set-by-kustomization", ns))
        .map(|q| (q.clone(), q))
        .collect()
}

/// The rate window of the qps query, in seconds, and as written.
pub(super) fn rate_window(queries: &Queries) -> Option<(f64, String)> {
    let q = queries
        .list
        .iter()
        .map(|(_, q)| q)
        .find(|q| q.contains("rate(") && q.contains("total_req_num"))?;
    let inner = q.rsplit_once('[')?.1.split_once(']')?.0;
    let secs = crate::grammar::duration::parse(inner)?.as_secs_f64();
    Some((secs, inner.to_string()))
}
