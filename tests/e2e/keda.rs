//! KEDA's route as far as it runs without a cluster.
//!
//! - The ScaledObject as users apply it: `kubectl kustomize
//!   deploy/overlays/keda`, so its namespace and queries are the rendered
//!   ones (the namespace is written into each query by the overlay's
//!   `replacements`), never a copy.
//! - How KEDA 2.20.2's Prometheus scaler turns a query's answer into the
//!   number it serves (pkg/scalers/prometheus_scaler.go, ExecutePromQuery):
//!   exactly one sample or an error; no sample is an error only with
//!   `ignoreNullValues: "false"` (the default true reads it as 0, as it does
//!   NaN and ±Inf); the value goes to the HPA rounded to milli-units
//!   (pkg/scalers/scaler.go, `fmt.Sprintf("%.3f", v)`, negatives as 0).

use std::fmt;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

/// One `prometheus` trigger.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub metric_type: String,
    pub server_address: String,
    pub query: String,
    /// As written: a string, as KEDA's trigger metadata is.
    pub threshold: String,
    pub ignore_null_values: bool,
}

#[derive(Debug, Clone)]
pub struct ScaledObject {
    pub name: String,
    pub namespace: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub triggers: Vec<Trigger>,
    /// The HPA's behavior KEDA creates (`advanced.horizontalPodAutoscalerConfig`).
    pub behavior: super::hpa_behavior::Behavior,
}

fn text(y: &Yaml, what: &str) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("{what}: expected a string, found {other:?}"),
    }
}

/// A Go `strconv.ParseBool` value, as KEDA parses its boolean metadata.
fn go_bool(value: &str, what: &str) -> bool {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
        "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
        other => panic!("{what}: {other:?} is not a Go boolean"),
    }
}

/// The ScaledObject of `kubectl kustomize <overlay>`.
pub fn rendered(overlay: &Path) -> ScaledObject {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(overlay)
        .output()
        .expect("run kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        overlay.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = YamlLoader::load_from_str(&String::from_utf8(out.stdout).expect("UTF-8")).expect("YAML");
    let sos: Vec<&Yaml> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("ScaledObject"))
        .collect();
    assert_eq!(sos.len(), 1, "{}: one ScaledObject", overlay.display());
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"].as_str() == Some("HorizontalPodAutoscaler")),
        "{}: the base HPA must be gone",
        overlay.display()
    );
    parse(sos[0])
}

fn parse(so: &Yaml) -> ScaledObject {
    assert_eq!(text(&so["apiVersion"], "apiVersion"), "keda.sh/v1alpha1");
    let spec = &so["spec"];
    // KEDA's defaults: 0 and 100.
    let count = |key: &str, default: u32| match &spec[key] {
        Yaml::BadValue => default,
        y => u32::try_from(y.as_i64().unwrap_or_else(|| panic!("spec.{key}"))).unwrap(),
    };
    let triggers = spec["triggers"]
        .as_vec()
        .expect("spec.triggers")
        .iter()
        .map(|t| {
            assert_eq!(
                text(&t["type"], "type"),
                "prometheus",
                "only prometheus triggers are modelled"
            );
            let m = &t["metadata"];
            let name = text(&t["name"], "trigger name");
            Trigger {
                metric_type: match &t["metricType"] {
                    Yaml::BadValue => "AverageValue".into(),
                    y => text(y, "metricType"),
                },
                server_address: text(&m["serverAddress"], "serverAddress"),
                query: text(&m["query"], "query"),
                threshold: text(&m["threshold"], "threshold"),
                ignore_null_values: match &m["ignoreNullValues"] {
                    Yaml::BadValue => true,
                    y => go_bool(&text(y, "ignoreNullValues"), "ignoreNullValues"),
                },
                name,
            }
        })
        .collect();
    ScaledObject {
        name: text(&so["metadata"]["name"], "metadata.name"),
        namespace: text(&so["metadata"]["namespace"], "metadata.namespace (the overlay sets it)"),
        min_replicas: count("minReplicaCount", 0),
        max_replicas: count("maxReplicaCount", 100),
        triggers,
        behavior: super::manifests::behavior(&spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]),
    }
}

/// Why KEDA would not get a number from a query.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    /// No sample, with ignoreNullValues false: "target may be lost".
    Empty { trigger: String, query: String },
    /// More than one sample: KEDA refuses ("returned multiple elements").
    Several {
        trigger: String,
        query: String,
        samples: Vec<String>,
    },
    /// NaN or ±Inf, with ignoreNullValues false.
    NotFinite { trigger: String, query: String, value: f64 },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Empty { trigger, query } => write!(
                f,
                "trigger {trigger}: the query returned no sample (KEDA: \"target may be lost, the result is empty\"; \
                 the trigger fails and fallback applies): {query}"
            ),
            QueryError::Several {
                trigger,
                query,
                samples,
            } => write!(
                f,
                "trigger {trigger}: the query returned {} samples, KEDA needs exactly one (\"returned multiple \
                 elements\"; aggregate with sum(...) and no `by`): {query}\n  samples: {}",
                samples.len(),
                samples.join(", ")
            ),
            QueryError::NotFinite { trigger, query, value } => {
                write!(f, "trigger {trigger}: the query returned {value}: {query}")
            }
        }
    }
}

/// The number KEDA's scaler reads from an instant query's `result`.
pub fn scaler_value(trigger: &Trigger, query: &str, result: &[(serde_json::Value, f64)]) -> Result<f64, QueryError> {
    let (name, query) = (trigger.name.clone(), query.to_owned());
    match result {
        [] if trigger.ignore_null_values => Ok(0.0),
        [] => Err(QueryError::Empty { trigger: name, query }),
        [(_, v)] if !v.is_finite() && trigger.ignore_null_values => Ok(0.0),
        [(_, v)] if !v.is_finite() => Err(QueryError::NotFinite {
            trigger: name,
            query,
            value: *v,
        }),
        [(_, v)] => Ok(*v),
        several => Err(QueryError::Several {
            trigger: name,
            query,
            samples: several.iter().map(|(labels, v)| format!("{labels} {v}")).collect(),
        }),
    }
}

/// The value as KEDA serves it, in milli-units: `%.3f`, then the
/// quantity's MilliValue; NaN, ±Inf and negatives as 0.
pub fn served_milli(value: f64) -> i64 {
    if !value.is_finite() || value < 0.0 {
        return 0;
    }
    let rounded = format!("{value:.3}");
    let (whole, fraction) = rounded.split_once('.').expect("a decimal point");
    whole.parse::<i64>().expect("whole part") * 1000 + fraction.parse::<i64>().expect("fraction")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(ignore_null_values: bool) -> Trigger {
        Trigger {
            name: "qps".into(),
            metric_type: "AverageValue".into(),
            server_address: "http://p:9090".into(),
            query: "sum(x)".into(),
            threshold: "500".into(),
            ignore_null_values,
        }
    }

    #[test]
    fn one_sample_or_an_error() {
        let one = [(serde_json::json!({}), 12.5)];
        let two = [
            (serde_json::json!({"pod": "a"}), 1.0),
            (serde_json::json!({"pod": "b"}), 2.0),
        ];
        let strict = trigger(false);
        assert_eq!(scaler_value(&strict, "q", &one), Ok(12.5));
        assert!(matches!(scaler_value(&strict, "q", &[]), Err(QueryError::Empty { .. })));
        let several = scaler_value(&strict, "q", &two).unwrap_err();
        assert!(several.to_string().contains("returned 2 samples"), "{several}");
        assert!(matches!(
            scaler_value(&strict, "q", &[(serde_json::json!({}), f64::NAN)]),
            Err(QueryError::NotFinite { .. })
        ));
        // KEDA's default hides a lost series as 0; several samples stay an error.
        let lenient = trigger(true);
        assert_eq!(scaler_value(&lenient, "q", &[]), Ok(0.0));
        assert_eq!(
            scaler_value(&lenient, "q", &[(serde_json::json!({}), f64::INFINITY)]),
            Ok(0.0)
        );
        assert!(scaler_value(&lenient, "q", &two).is_err());
    }

    #[test]
    fn served_in_rounded_milli() {
        assert_eq!(served_milli(1199.99951), 1_200_000);
        assert_eq!(served_milli(0.0004), 0);
        assert_eq!(served_milli(160.0), 160_000);
        assert_eq!(served_milli(-1.0), 0);
        assert_eq!(served_milli(f64::NAN), 0);
    }
}
