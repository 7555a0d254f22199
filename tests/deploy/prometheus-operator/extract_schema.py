"""Writes <kind>-spec.json here: the `spec` part of a Prometheus Operator
CRD's schema (ServiceMonitor, PrometheusRule) with every `description`
dropped (the only change), so that chart_checks.py can validate the chart's
custom resources offline without the large upstream files.

    fetch prometheus-community/helm-charts, then for F in servicemonitors prometheusrules:
    git show <commit>:charts/kube-prometheus-stack/charts/crds/crds/crd-$F.yaml > crd-$F.yaml
    python3 tests/deploy/prometheus-operator/extract_schema.py crd-$F.yaml CHART_VERSION COMMIT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def without_descriptions(node):
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def main(argv: list[str]) -> int:
    crd_path, chart_version, commit = argv
    crd = yaml.safe_load(Path(crd_path).read_text(encoding="utf-8"))
    kind = crd["spec"]["names"]["kind"]
    (version,) = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    operator = crd["metadata"].get("annotations", {}).get("operator.prometheus.io/version", "?")
    out = {
        "$comment": (
            f"spec of {crd['spec']['group']}/{version['name']} {kind} from prometheus-community/helm-charts "
            f"{commit} charts/kube-prometheus-stack/charts/crds/crds/{Path(crd_path).name} "
            f"(kube-prometheus-stack {chart_version}, Prometheus Operator {operator}), descriptions dropped; "
            "regenerate with tests/deploy/prometheus-operator/extract_schema.py"
        ),
        "apiVersion": f"{crd['spec']['group']}/{version['name']}",
        "kind": kind,
        "required": schema.get("required", []),
        "spec": without_descriptions(schema["properties"]["spec"]),
    }
    path = HERE / f"{kind.lower()}-spec.json"
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
