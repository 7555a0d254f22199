//! prometheus-adapter's side of a Pods request, redone here: which custom
//! metric a series becomes, and the PromQL a rule's `metricsQuery` turns into.
//!
//! For `GET /apis/custom.metrics.k8s.io/v1beta1/namespaces/NS/pods/*/METRIC`
//! the adapter (pkg/naming/metrics_query.go) executes `metricsQuery` as a Go
//! template with `<<` `>>` delimiters and
//!   `<<.Series>>`         the series name the rule discovered,
//!   `<<.LabelMatchers>>`  `namespace="NS",pod=~"a|b|c"` (labels from `resources.overrides`),
//!   `<<.GroupBy>>`        `pod`.
//! tests/deploy/adapter_rules.py renders the same way for the deploy checks.

use std::time::Duration;

use custom_metrics_app::internals::grammar::duration;

use super::manifests::AdapterRule;

/// The series label `resources.overrides` maps to `resource` (namespace, pod).
pub fn resource_label<'a>(rule: &'a AdapterRule, resource: &str) -> &'a str {
    rule.overrides
        .iter()
        .find(|(_, r)| r == resource || *r == format!("{resource}s"))
        .map(|(label, _)| label.as_str())
        .unwrap_or_else(|| panic!("rule {:?} maps no label to the {resource} resource", rule.series_query))
}

/// `<<.LabelMatchers>>` for a Pods request about `pods` in `namespace`.
pub fn label_matchers(rule: &AdapterRule, namespace: &str, pods: &[&str]) -> String {
    let op = if pods.len() > 1 { "=~" } else { "=" };
    format!(
        "{}={:?},{}{op}{:?}",
        resource_label(rule, "namespace"),
        namespace,
        resource_label(rule, "pod"),
        pods.join("|")
    )
}

/// The PromQL the adapter sends for `rule` when asked about `pods`.
pub fn render(rule: &AdapterRule, series: &str, namespace: &str, pods: &[&str]) -> String {
    let rendered = rule
        .metrics_query
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", &label_matchers(rule, namespace, pods))
        .replace("<<.GroupBy>>", resource_label(rule, "pod"));
    assert!(
        !rendered.contains("<<") && !rendered.contains(">>"),
        "template actions this test does not render: {}",
        rule.metrics_query
    );
    rendered
}

/// The custom metric name the adapter serves `series` under (`name.matches`
/// / `name.as`). Only anchored literal patterns and literal or `$0` names are
/// supported: what the values file uses; anything else fails loudly.
pub fn metric_name(rule: &AdapterRule, series: &str) -> String {
    if let Some(pattern) = &rule.name_matches {
        let literal = pattern.trim_start_matches('^').trim_end_matches('$');
        assert!(
            !literal.contains(|c: char| "\\.*+?()[]{}|".contains(c)),
            "name.matches {pattern:?}: only literal patterns are supported here"
        );
        let matched = match (pattern.starts_with('^'), pattern.ends_with('$')) {
            (true, true) => series == literal,
            (true, false) => series.starts_with(literal),
            (false, true) => series.ends_with(literal),
            (false, false) => series.contains(literal),
        };
        assert!(matched, "series {series} does not match name.matches {pattern:?}");
    }
    match rule.name_as.as_deref() {
        None | Some("$0") | Some("${0}") => series.to_owned(),
        Some(name) if !name.contains('$') => name.to_owned(),
        Some(other) => panic!("name.as {other:?}: only literal names and $0 are supported here"),
    }
}

/// Multiplies every range selector (`[1m]`) in `promql` by `factor`: the
/// test scrapes faster than the ServiceMonitor, and the window must hold as
/// many samples as it does in the cluster.
pub fn scale_windows(promql: &str, factor: f64) -> String {
    let mut out = String::new();
    let mut rest = promql;
    while let Some(open) = rest.find('[') {
        let close = open + rest[open..].find(']').expect("closing ]");
        let inner = &rest[open + 1..close];
        let window = duration::parse(inner).unwrap_or_else(|| panic!("range [{inner}] is not a plain duration"));
        let scaled = Duration::from_secs_f64(window.as_secs_f64() * factor);
        out += &rest[..open];
        out += &format!("[{}ms]", scaled.as_millis());
        rest = &rest[close + 1..];
    }
    out + rest
}

/// The range selectors (`[1m]`) of `promql`, in order.
pub fn windows(promql: &str) -> Vec<Duration> {
    promql
        .split('[')
        .skip(1)
        .map(|part| {
            let inner = &part[..part.find(']').expect("closing ]")];
            duration::parse(inner).unwrap_or_else(|| panic!("range [{inner}] is not a plain duration"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(metrics_query: &str) -> AdapterRule {
        AdapterRule {
            series_query: "total_req_num{namespace!=\"\",pod!=\"\"}".into(),
            overrides: vec![("namespace".into(), "namespace".into()), ("pod".into(), "pod".into())],
            name_matches: Some("^total_req_num$".into()),
            name_as: Some("qps".into()),
            metrics_query: metrics_query.into(),
        }
    }

    #[test]
    fn renders_like_the_adapter() {
        let r = rule("sum(rate(<<.Series>>{<<.LabelMatchers>>,api!~\"metrics\"}[1m])) by (<<.GroupBy>>)");
        assert_eq!(
            render(&r, "total_req_num", "default", &["a", "b", "c"]),
            "sum(rate(total_req_num{namespace=\"default\",pod=~\"a|b|c\",api!~\"metrics\"}[1m])) by (pod)"
        );
        assert_eq!(
            render(&r, "total_req_num", "default", &["a"]),
            "sum(rate(total_req_num{namespace=\"default\",pod=\"a\",api!~\"metrics\"}[1m])) by (pod)"
        );
        assert_eq!(metric_name(&r, "total_req_num"), "qps");
    }

    #[test]
    fn scales_range_selectors() {
        assert_eq!(scale_windows("rate(x[1m])", 0.1), "rate(x[6000ms])");
        assert_eq!(
            scale_windows("a[30s] + b{c=\"d\"}[2m]", 0.5),
            "a[15000ms] + b{c=\"d\"}[60000ms]"
        );
        assert_eq!(scale_windows("max(x)", 0.1), "max(x)");
        assert_eq!(
            windows("a[30s] + b[6000ms]"),
            [Duration::from_secs(30), Duration::from_secs(6)]
        );
    }
}
