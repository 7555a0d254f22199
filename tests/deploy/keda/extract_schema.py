"""Writes scaledobject-spec.json: the `spec` part of KEDA's ScaledObject CRD
schema with every `description` dropped (the only change), so that
keda_checks.py can validate the overlay's ScaledObject offline without the
491-line upstream file in this repository.

    fetch kedacore/charts, then
    git show <commit>:keda/templates/crds/crd-scaledobjects.yaml > crd.yaml
    python3 tests/deploy/keda/extract_schema.py crd.yaml CHART_VERSION COMMIT

The CRD file is a Helm template: the lines holding `{{ ... }}` (the chart's
`crds.install` switch and extra labels/annotations) are dropped before it is
parsed; none of them is inside the schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent / "scaledobject-spec.json"


def without_descriptions(node):
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def main(argv: list[str]) -> int:
    crd_path, chart_version, commit = argv
    text = "".join(line for line in Path(crd_path).read_text(encoding="utf-8").splitlines(True) if "{{" not in line)
    crd = yaml.safe_load(text)
    assert crd["spec"]["names"]["kind"] == "ScaledObject", crd["spec"]["names"]
    (version,) = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    out = {
        "$comment": (
            f"spec of keda.sh/{version['name']} ScaledObject from kedacore/charts {commit} "
            f"keda/templates/crds/crd-scaledobjects.yaml (chart keda {chart_version}), descriptions "
            "dropped; regenerate with tests/deploy/keda/extract_schema.py"
        ),
        "apiVersion": f"{crd['spec']['group']}/{version['name']}",
        "kind": "ScaledObject",
        "required": schema.get("required", []),
        "spec": without_descriptions(schema["properties"]["spec"]),
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
