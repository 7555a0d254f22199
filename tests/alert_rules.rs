//! `promtool test rules` on every alert of deploy/base/prometheusrule.yaml:
//! the PrometheusRule's groups are written out as a plain rule file beside
//! tests/deploy/prometheusrule_test.yaml, whose cases promtool evaluates;
//! and every alert must have a case where it fires and one where it does not.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fake_sysfs::TestDir;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

fn load(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

/// The alert names of the PrometheusRule, in file order.
fn alerts(rule: &Yaml) -> Vec<String> {
    let groups = rule["spec"]["groups"].as_vec().expect("spec.groups");
    groups
        .iter()
        .flat_map(|g| g["rules"].as_vec().expect("rules"))
        .filter_map(|r| r["alert"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn every_alert_is_unit_tested_firing_and_not_firing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rule = load(&root.join("deploy/base/prometheusrule.yaml"));
    let names = alerts(&rule);
    assert_eq!(names.len(), 8, "{names:?}");

    // Which cases the unit tests hold, by alert: (fires, stays silent).
    let cases = load(&root.join("tests/deploy/prometheusrule_test.yaml"));
    let mut covered: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for test in cases["tests"].as_vec().expect("tests") {
        for case in test["alert_rule_test"].as_vec().expect("alert_rule_test") {
            let name = case["alertname"].as_str().expect("alertname").to_owned();
            let fires = !case["exp_alerts"].as_vec().expect("exp_alerts").is_empty();
            let entry = covered.entry(name).or_default();
            if fires {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
    }
    for name in &names {
        assert_eq!(
            covered.get(name),
            Some(&(true, true)),
            "{name}: a firing and a silent case"
        );
    }
    assert!(
        covered.keys().all(|k| names.contains(k)),
        "cases for alerts that do not exist: {covered:?}"
    );

    if !common::require_tool("promtool") {
        return;
    }
    let dir = TestDir::new("alert-rules");
    let mut rules = String::new();
    YamlEmitter::new(&mut rules)
        .dump(&rule["spec"])
        .expect("emit the rule groups");
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    std::fs::copy(
        root.join("tests/deploy/prometheusrule_test.yaml"),
        dir.path().join("prometheusrule_test.yaml"),
    )
    .unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules", "prometheusrule_test.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool test rules failed:\n{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}
