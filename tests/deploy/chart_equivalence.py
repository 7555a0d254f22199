"""The Helm chart and the kustomize manifests render the same objects.

deploy/ (kubectl apply -k) and deploy/helm/custom-metrics-app (helm
install) are two ways to install one thing, kept by hand in two forms. This
renders each kustomize entry point and the chart with the values that stand
for it, and compares the two sets object by object: same kinds, names and
specs, apart from Helm's own labels (helm.sh/chart,
app.kubernetes.io/managed-by, app.kubernetes.io/instance, also in
selectors), which are removed from both sides before comparing, and the
order of env entries (sorted by name on both sides). A
difference either way prints a unified diff of the object and fails.

    python3 tests/deploy/chart_equivalence.py [--helm helm] [--kubectl kubectl]
        [--deploy deploy] [--chart deploy/helm/custom-metrics-app] [--out DIR]

With --out, each chart render is written to DIR/chart-<case>.yaml for the
checks that follow (scripts/validate-deploy.sh). Exit status 1 on a
difference, 2 when a render fails.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

# The release name that gives the chart's objects deploy/'s names.
RELEASE = "custom-metrics-app"

# The labels Helm adds and kustomize does not.
HELM_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance")

# kustomize entry point (relative to deploy/) -> the chart values that stand
# for it. deploy/ builds its image as custom-metrics-app:dev, the chart's tag
# defaults to its appVersion: every case sets the tag to dev. docs/kubernetes.md
# shows the same table.
CASES: dict[str, tuple[str, list[str]]] = {
    "base": (".", []),
    "cpu-hpa": ("overlays/cpu-hpa", ["autoscaling.mode=cpu"]),
    "real-sensors": (
        "overlays/real-sensors",
        ["realSensors.enabled=true", "app.temperature.source=auto", "experiments.enabled=false"],
    ),
    "keda": ("overlays/keda", ["autoscaling.mode=keda"]),
}
COMMON_SETS = ["image.tag=dev"]
# The namespace deploy/overlays/keda writes into its queries (the others set
# none), given to `helm template --namespace`.
NAMESPACE = "default"


def strip_helm_labels(node: Any) -> Any:
    """A copy of `node` without HELM_LABELS keys, at any depth."""
    if isinstance(node, dict):
        return {k: strip_helm_labels(v) for k, v in node.items() if k not in HELM_LABELS}
    if isinstance(node, list):
        return [strip_helm_labels(v) for v in node]
    return node


def sort_env(obj: dict) -> None:
    """Orders each container's env by name: a kustomize patch moves the entry
    it changes to the front, and the order carries no meaning while no value
    refers to another variable ($(NAME)), which is checked."""
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        env = container.get("env")
        if env:
            if any("$(" in str(e.get("value", "")) for e in env):
                raise SystemExit(f"chart_equivalence: {obj['kind']}/{obj['metadata']['name']}: an env value refers to another")
            container["env"] = sorted(env, key=lambda e: e["name"])


def objects(text: str) -> dict[str, dict]:
    """The rendered objects by "Kind/name" (apiVersion kept in the spec)."""
    out: dict[str, dict] = {}
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        key = f"{doc['kind']}/{doc['metadata']['name']}"
        if key in out:
            raise SystemExit(f"chart_equivalence: {key} rendered twice")
        out[key] = strip_helm_labels(doc)
        sort_env(out[key])
    return out


def drop_namespace(objs: dict[str, dict], namespace: str) -> None:
    """kustomize writes an overlay's `namespace:` into every object; Helm
    leaves the namespace to `helm install -n` (given to `helm template` as
    --namespace). The same namespace on both sides is no difference."""
    for obj in objs.values():
        meta = obj["metadata"]
        if meta.get("namespace") == namespace:
            del meta["namespace"]


def run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or proc.stderr.strip():
        sys.stderr.write(f"$ {' '.join(cmd)}\n{proc.stderr}")
        raise SystemExit(2)
    return proc.stdout


def helm_template(helm: str, chart: str, sets: list[str]) -> str:
    # --skip-tests: the helm test Pod is a hook, run by `helm test`, not installed.
    cmd = [helm, "template", RELEASE, chart, "--namespace", NAMESPACE, "--skip-tests"]
    for s in sets:
        cmd += ["--set", s]
    return run(cmd)


def dump(obj: dict) -> list[str]:
    return yaml.safe_dump(obj, sort_keys=True, width=1000).splitlines(keepends=True)


def compare(name: str, kustomized: dict[str, dict], charted: dict[str, dict]) -> int:
    """Prints one line per object (and a diff where they differ); the count of differences."""
    differences = 0
    for key in sorted(set(kustomized) | set(charted)):
        if key not in charted:
            print(f"  FAIL  {name}: {key} is in kustomize's render, not in the chart's")
            differences += 1
        elif key not in kustomized:
            print(f"  FAIL  {name}: {key} is in the chart's render, not in kustomize's")
            differences += 1
        elif kustomized[key] != charted[key]:
            print(f"  FAIL  {name}: {key} differs (- kustomize, + chart):")
            diff = difflib.unified_diff(dump(kustomized[key]), dump(charted[key]), "kustomize", "chart", n=2)
            sys.stdout.writelines("        " + line for line in diff)
            differences += 1
        else:
            print(f"  ok    {name}: {key} identical")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--helm", default="helm")
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--deploy", default="deploy")
    parser.add_argument("--chart", default="deploy/helm/custom-metrics-app")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (default: all)")
    args = parser.parse_args()

    differences = 0
    for name in args.case or list(CASES):
        entry, sets = CASES[name]
        directory = Path(args.deploy) / entry
        sets = COMMON_SETS + sets
        flags = " ".join(f"--set {s}" for s in sets)
        print(f"== {name}: kubectl kustomize {directory}  vs  helm template {RELEASE} {args.chart} -n {NAMESPACE} {flags}")
        if not (directory / "kustomization.yaml").is_file():
            print(f"  FAIL  {name}: {directory}/kustomization.yaml is missing")
            differences += 1
            continue
        kustomized = objects(run([args.kubectl, "kustomize", str(directory)]))
        drop_namespace(kustomized, NAMESPACE)
        rendered = helm_template(args.helm, args.chart, sets)
        if args.out:
            (args.out / f"chart-{name}.yaml").write_text(rendered)
        differences += compare(name, kustomized, objects(rendered))

    if not args.case or "base" in args.case:
        # A control: one value changed must show as exactly one difference,
        # or a pass above would mean nothing.
        kustomized = objects(run([args.kubectl, "kustomize", args.deploy]))
        changed = objects(helm_template(args.helm, args.chart, COMMON_SETS + ["autoscaling.maxReplicas=11"]))
        print("== control: base vs the chart with autoscaling.maxReplicas=11 (must differ in the HPA alone)")
        with contextlib.redirect_stdout(io.StringIO()) as seen:
            found = compare("control", kustomized, changed)
        failing = [line for line in seen.getvalue().splitlines() if "FAIL" in line]
        if found == 1 and "HorizontalPodAutoscaler/" in failing[0]:
            print(f"  ok    control: the changed value is reported ({failing[0].split('FAIL  control: ')[1]})")
        else:
            print(f"  FAIL  control: {found} difference(s) reported: {failing}")
            differences += 1

    if differences:
        print(f"chart_equivalence: {differences} difference(s): change the chart and deploy/ together")
        return 1
    print(f"chart_equivalence: OK, the chart renders what kustomize does ({len(args.case or CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
