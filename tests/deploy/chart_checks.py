"""Checks of the Helm chart deploy/helm/custom-metrics-app, for
scripts/validate-deploy.sh, with a real helm (scripts/install-helm.sh):

  - Chart.yaml's version and appVersion equal the crate's (Cargo.toml);
  - `helm template` of every autoscaling.mode (and realSensors, and an
    image digest), as release "demo" in namespace "apps" and with
    --kube-version 1.30.0 (the chart's minimum): what each mode must and
    must not contain, the names and namespace written into queries and
    alerts, every label value within 63 characters; each built-in object
    written to OUT/objects-chart/ for kubernetes-validate --strict; the
    ScaledObject checked strictly against KEDA's CRD schema (keda_checks),
    ServiceMonitor and PrometheusRule against the Prometheus Operator's
    (operator_crds), each also shown to refuse broken copies;
  - --kube-version 1.29.0 is refused (kubeVersion >=1.30.0-0);
  - every bad-values case fails `helm template` with an error that names
    the field (values.schema.json, or the template's own check), and
    decimals given with --set (strings to helm) are taken;
  - with --binary: the app container of the default, real-sensors and
    "options" renders started with its rendered environment and arguments
    (on loopback), and the helm test Pod's command run against it;
  - with --docs: each doc's values table lists exactly the rows of
    values.yaml with their defaults (chart_values_table.py), and every row
    has a `# --` description in values.yaml.

    python3 tests/deploy/chart_checks.py --helm helm --chart DIR --out DIR [--docs DOC...]

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chart_values_table  # noqa: E402
import keda_checks  # noqa: E402
import operator_crds  # noqa: E402

RELEASE, NAMESPACE = "demo", "apps"
FULLNAME = f"{RELEASE}-custom-metrics-app"
DIGEST = "sha256:" + "0123456789abcdef" * 4
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}

# name -> (--set values, kinds that must be there, kinds that must not)
RENDERS: dict[str, tuple[list[str], set[str], set[str]]] = {
    "adapter": ([], {"HorizontalPodAutoscaler"}, {"ScaledObject"}),
    "keda": (["autoscaling.mode=keda"], {"ScaledObject"}, {"HorizontalPodAutoscaler"}),
    # Quantities with a suffix, which the HPA takes and KEDA's threshold (a
    # float) does not: the chart writes them as plain numbers.
    "keda-quantities": (["autoscaling.mode=keda", "autoscaling.qpsTarget=1500m", "autoscaling.cpuTemperatureTarget=2k"],
                        {"ScaledObject"}, {"HorizontalPodAutoscaler"}),
    "cpu": (["autoscaling.mode=cpu"], {"HorizontalPodAutoscaler"}, {"ScaledObject"}),
    "none": (["autoscaling.mode=none", "replicaCount=3"], set(), {"HorizontalPodAutoscaler", "ScaledObject"}),
    "real-sensors": (["realSensors.enabled=true", "app.temperature.source=auto"], {"HorizontalPodAutoscaler"}, set()),
    "digest": ([f"image.digest={DIGEST}", "image.tag=1.2.3"], {"HorizontalPodAutoscaler"}, set()),
    "everything-off": (
        ["serviceMonitor.enabled=false", "prometheusRule.enabled=false", "dashboard.enabled=false",
         "podDisruptionBudget.enabled=false", "tests.enabled=false"],
        set(), {"ServiceMonitor", "PrometheusRule", "ConfigMap", "PodDisruptionBudget", "Pod"},
    ),
}
ALWAYS = {"Deployment", "Service"}

# Every optional pod and app setting at once (values file "options"): each
# must render to what the API server accepts (kubernetes-validate --strict).
OPTIONS = {
    "imagePullSecrets": [{"name": "regcred"}],
    "podLabels": {"team": "lab"},
    "podAnnotations": {"note": "x"},
    "priorityClassName": "high",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "lab", "effect": "NoSchedule"}],
    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                           "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "custom-metrics-app"}}}}]}},
    "topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}],
    "service": {"type": "NodePort", "port": 8080, "annotations": {"a": "b"}},
    "app": {"errorRatio": 0.1, "delay": "5ms..50ms", "workThreads": 2, "workers": 2, "logRequests": True,
            "logFormat": "json", "temperature": {"thermalZone": "x86_pkg_temp", "sensorInterval": 2},
            "extraEnv": [{"name": "CMA_MAX_CONNECTIONS", "value": "5000"}], "extraArgs": ["--no-openmetrics"]},
    "preStopSleepSeconds": 0,
    "scrapeAnnotations": False,
    "podDisruptionBudget": {"maxUnavailable": "25%"},
    "dashboard": {"annotations": {"grafana_folder": "Autoscaling"}},
}
OPTIONS_ENV = {"CMA_ERROR_RATIO": "0.1", "CMA_DELAY": "5ms..50ms", "CMA_WORK_THREADS": "2", "CMA_WORKERS": "2",
               "CMA_LOG_REQUESTS": "true", "CMA_LOG_FORMAT": "json", "CMA_THERMAL_ZONE": "x86_pkg_temp",
               "CMA_SENSOR_INTERVAL": "2", "CMA_MAX_CONNECTIONS": "5000"}

# Bad values: (--set or --set-string arguments, text the error must contain).
BAD_VALUES: list[tuple[list[str], str]] = [
    (["--set", "autoscaling.mode=hpa"], "/autoscaling/mode"),
    (["--set", "autoscaling.qpsTarget=-5"], "/autoscaling/qpsTarget"),
    (["--set-string", "autoscaling.cpuTemperatureTarget=-80"], "/autoscaling/cpuTemperatureTarget"),
    (["--set", "autoscaling.cpuUtilization=0"], "/autoscaling/cpuUtilization"),
    (["--set", "autoscaling.minReplicas=0"], "/autoscaling/minReplicas"),
    (["--set", "autoscaling.minReplicas=5", "--set", "autoscaling.maxReplicas=2"], "autoscaling.maxReplicas"),
    (["--set-string", "app.port=http"], "/app/port"),
    (["--set", "app.errorRatio=1.5"], "/app/errorRatio"),
    (["--set", "app.temperature.source=sensors"], "/app/temperature/source"),
    (["--set", "realSensors.enabled=true"], "/app/temperature/source"),
    (["--set", "image.digest=sha256:abc"], "/image/digest"),
    (["--set", "image.tag=1.0@sha256:abc"], "/image/tag"),
    (["--set", "image.repository=null"], "image"),
    (["--set", "autoscaling.mode=null"], "mode"),
    (["--set", "serviceMonitor.enabled=yes"], "/serviceMonitor/enabled"),
    (["--set", "serviceMonitor.interval=10"], "/serviceMonitor/interval"),
    (["--set", "serviceMonitor.additionalLabels.release=1"], "/serviceMonitor/additionalLabels/release"),
    (["--set", "replicas=3"], "replicas"),
    (["--set", "autoscaling.keda.serverAddress=prometheus:9090"], "/autoscaling/keda/serverAddress"),
    (["--set", "tests.requests=0"], "/tests/requests"),
    (["--set", "app.shutdownTimeout=40"], "terminationGracePeriodSeconds"),
    (["--set", "experiments.enabled=false", "--set", "app.delay=1s"], "/app/delay"),
]

# Decimals as users type them: `--set` keeps a decimal (0.5, unlike 5) as a
# string, so the schema must take the string form too. (--set arguments,
# the variable, the value it must render to.)
GOOD_DECIMALS: list[tuple[list[str], str, str]] = [
    (["--set", "app.errorRatio=0.05"], "CMA_ERROR_RATIO", "0.05"),
    (["--set", "app.temperature.sensorInterval=0.5"], "CMA_SENSOR_INTERVAL", "0.5"),
    (["--set", "app.temperature.simStart=36.5"], "CMA_SIM_START", "36.5"),
    (["--set", "app.temperature.simStep=2.5"], "CMA_SIM_STEP", "2.5"),
    (["--set", "app.shutdownTimeout=12.5"], "CMA_SHUTDOWN_TIMEOUT", "12.5"),
]


class Checks:
    def __init__(self) -> None:
        self.failed = 0
        self.passed = 0

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}")
        return ok


def helm_template(helm: str, chart: str, args: list[str], kube: str = "1.30.0") -> subprocess.CompletedProcess:
    cmd = [helm, "template", RELEASE, chart, "--namespace", NAMESPACE, "--kube-version", kube, *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def label_values(obj: dict) -> list[tuple[str, str]]:
    out = []
    meta = obj.get("metadata", {})
    out += list((meta.get("labels") or {}).items())
    tmpl = obj.get("spec", {}).get("template", {}).get("metadata", {})
    out += list((tmpl.get("labels") or {}).items())
    return out


def check_render(c: Checks, name: str, objs: list[dict], must: set[str], must_not: set[str]) -> None:
    kinds = {o["kind"] for o in objs}
    c.check(ALWAYS | must <= kinds, f"{name}: renders {sorted(ALWAYS | must)} (got {sorted(kinds)})")
    c.check(not (must_not & kinds), f"{name}: renders none of {sorted(must_not)}")
    c.check(all(o["metadata"]["name"].startswith(FULLNAME) for o in objs),
            f"{name}: every object is named {FULLNAME}[-...]")
    long = [(o["kind"], k, v) for o in objs for k, v in label_values(o) if len(str(v)) > 63]
    c.check(not long, f"{name}: every label value within 63 characters {long or ''}")
    deploy = next(o for o in objs if o["kind"] == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    image = pod["containers"][0]["image"]
    if name == "none":
        c.check(deploy["spec"].get("replicas") == 3, "none: the Deployment has replicas: 3 (replicaCount)")
    else:
        c.check("replicas" not in deploy["spec"], f"{name}: no replicas field (the autoscaler owns the count)")
    if name == "digest":
        version = deploy["metadata"]["labels"]["app.kubernetes.io/version"]
        c.check(image == f"custom-metrics-app:1.2.3@{DIGEST}", f"digest: image {image}")
        c.check(version == "1.2.3", f"digest: app.kubernetes.io/version is the tag ({version}), not the digest")
    if name == "options":
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        missing = {k: v for k, v in OPTIONS_ENV.items() if env.get(k) != v}
        c.check(not missing, f"options: the app's options become CMA_* variables {missing or ''}")
        spread = pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
        c.check(spread == {"app.kubernetes.io/name": "custom-metrics-app", "app.kubernetes.io/instance": RELEASE},
                f"options: a spread constraint without labelSelector gets the pods' selector ({spread})")
        c.check("lifecycle" not in pod["containers"][0], "options: preStopSleepSeconds 0 leaves out the preStop hook")
    if name == "real-sensors":
        c.check(any(v.get("hostPath", {}).get("path") == "/sys" for v in pod.get("volumes", [])),
                "real-sensors: the node's /sys is mounted")
    for o in objs:
        if o["kind"] == "ScaledObject":
            errors = keda_checks.schema_errors(o)
            c.check(not errors, f"{name}: ScaledObject valid against KEDA's CRD schema (strict) {errors or ''}")
            queries = [t["metadata"]["query"] for t in o["spec"]["triggers"]]
            c.check(all(f'namespace="{NAMESPACE}"' in q and f'job="{FULLNAME}"' in q for q in queries),
                    f"{name}: each KEDA query selects namespace {NAMESPACE} and job {FULLNAME}")
            if name == "keda-quantities":
                thresholds = [t["metadata"]["threshold"] for t in o["spec"]["triggers"]]
                c.check(thresholds == ["1.5", "2000"],
                        f"{name}: 1500m and 2k become the thresholds 1.5 and 2000 ({thresholds})")
            hpa = o["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"]
            c.check(hpa == FULLNAME, f"{name}: KEDA's HPA is named {FULLNAME} (the alerts watch it)")
        if o["kind"] in operator_crds.KINDS:
            errors = operator_crds.schema_errors(o)
            c.check(not errors, f"{name}: {o['kind']} valid against the Prometheus Operator's CRD schema (strict) {errors or ''}")
            if name == "adapter":
                for what, broken in operator_crds.broken_variants(o).items():
                    c.check(bool(operator_crds.schema_errors(broken)), f"{name}: a {o['kind']} with {what} is refused")
        if o["kind"] == "PrometheusRule":
            exprs = [r["expr"] for g in o["spec"]["groups"] for r in g["rules"]]
            c.check(all("custom-metrics-app\"" not in e or FULLNAME in e for e in exprs),
                    f"{name}: alerts select job/HPA {FULLNAME}")
            hpa_alerts = [e for e in exprs if "horizontalpodautoscaler" in e]
            c.check(bool(hpa_alerts) == (name != "none"), f"{name}: HPA alerts only with an HPA ({len(hpa_alerts)})")
        if o["kind"] == "ConfigMap":
            text = next(iter(o["data"].values()))
            c.check(f'job=\\"{FULLNAME}\\"' in text and 'job=\\"custom-metrics-app\\"' not in text,
                    f"{name}: the dashboard selects job {FULLNAME}")
        if o["kind"] == "Pod":
            args = o["spec"]["containers"][0]["args"]
            port = next(x for x in objs if x["kind"] == "Service")["spec"]["ports"][0]["port"]
            c.check(args[0] == "check" and f"--url=http://{FULLNAME}:{port}" in args,
                    f"{name}: the helm test Pod runs `check` against the Service ({' '.join(args)})")
            c.check(o["metadata"]["annotations"].get("helm.sh/hook") == "test", f"{name}: the Pod is a test hook")


# Renders whose app container and helm test Pod are run with the real binary.
RUN_WITH_BINARY = ("adapter", "real-sensors", "options")


def run_rendered(c: Checks, name: str, objs: list[dict], binary: str) -> None:
    """Starts the binary with the rendered container's environment and
    arguments (listening on loopback instead), then runs the helm test Pod's
    arguments against it, as `helm test` would against the Service: the
    rendered flags must start the app, and the test must pass."""
    container = next(o for o in objs if o["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    env["CMA_LISTEN"] = "127.0.0.1:0"
    env["PATH"] = os.environ.get("PATH", "")
    server = subprocess.Popen(
        [binary, *container.get("args", [])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        addr, line, deadline = None, "", time.monotonic() + 20
        while addr is None and time.monotonic() < deadline and server.poll() is None:
            if select.select([server.stderr], [], [], 0.5)[0]:
                line = server.stderr.readline()
                m = re.search(r" listening on (\S+) ", line)
                addr = m.group(1) if m else None
        if not c.check(addr is not None, f"{name}: the rendered container's flags start the binary ({line.strip()})"):
            return
        test = next(o for o in objs if o["kind"] == "Pod")["spec"]["containers"][0]
        args = [re.sub(r"^--url=http://[^/]+", f"--url=http://{addr}", a) for a in test["args"]]
        out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False)
        said = (out.stdout + out.stderr).strip()
        c.check(out.returncode == 0, f"{name}: the helm test Pod's command passes against it: {said}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            code = None
        c.check(code == 0, f"{name}: SIGTERM stops it with exit status 0 (got {code})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--helm", default="helm")
    p.add_argument("--chart", default="deploy/helm/custom-metrics-app")
    p.add_argument("--cargo-toml", default="Cargo.toml")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--docs", type=Path, nargs="*", default=[])
    p.add_argument("--binary", help="custom-metrics-app binary: run the rendered container and helm test command")
    args = p.parse_args()
    c = Checks()

    print("-- Chart.yaml against Cargo.toml")
    chart = yaml.safe_load((Path(args.chart) / "Chart.yaml").read_text())
    crate = re.search(r'^version\s*=\s*"([^"]+)"', Path(args.cargo_toml).read_text(), re.M).group(1)
    c.check(str(chart["version"]) == crate, f"chart version {chart['version']} = crate version {crate}")
    c.check(str(chart["appVersion"]) == crate, f"appVersion {chart['appVersion']} = crate version {crate}")
    c.check(chart.get("kubeVersion") == ">=1.30.0-0", f"kubeVersion {chart.get('kubeVersion')}")

    print(f"-- helm template per mode (release {RELEASE}, namespace {NAMESPACE}, --kube-version 1.30.0)")
    objects_dir = args.out / "objects-chart"
    objects_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    options_file = args.out / "options-values.yaml"
    options_file.write_text(yaml.safe_dump(OPTIONS))
    renders = dict(RENDERS, options=(["-f", str(options_file)], {"HorizontalPodAutoscaler"}, set()))
    for name, (sets, must, must_not) in renders.items():
        flags = sets if sets[:1] == ["-f"] else [a for s in sets for a in ("--set", s)]
        proc = helm_template(args.helm, args.chart, flags)
        if proc.returncode != 0 or proc.stderr.strip():
            c.check(False, f"{name}: helm template: {proc.stderr.strip()}")
            continue
        objs = [o for o in yaml.safe_load_all(proc.stdout) if o]
        check_render(c, name, objs, must, must_not)
        if args.binary and name in RUN_WITH_BINARY:
            run_rendered(c, name, objs, args.binary)
        for o in objs:
            if o["kind"] in CRD_KINDS:
                continue
            n += 1
            (objects_dir / f"{n:03d}-{name}-{o['kind'].lower()}.yaml").write_text(yaml.safe_dump(o))

    print("-- kubeVersion")
    old = helm_template(args.helm, args.chart, [], kube="1.29.0")
    said = next((line for line in old.stderr.splitlines() if "kubeVersion" in line), "rendered!")
    c.check(old.returncode != 0 and "kubeVersion" in old.stderr, f"--kube-version 1.29.0 refused: {said.strip()}")

    print("-- bad values fail, naming the field")
    for flags, field in BAD_VALUES:
        proc = helm_template(args.helm, args.chart, flags)
        err = " ".join(proc.stderr.split())
        shown = " ".join(flags)
        c.check(proc.returncode != 0 and field in err,
                f"{shown}: {'refused' if proc.returncode else 'ACCEPTED'}: {err[err.find(field) - 2 if field in err else 0:][:110]}")

    print("-- decimals given with --set are taken")
    for flags, var, want in GOOD_DECIMALS:
        proc = helm_template(args.helm, args.chart, flags)
        env = {}
        if proc.returncode == 0:
            deploy = next(o for o in yaml.safe_load_all(proc.stdout) if o and o["kind"] == "Deployment")
            env = {e["name"]: e.get("value") for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
        err = " ".join(proc.stderr.split())[:110]
        c.check(proc.returncode == 0 and env.get(var) == want,
                f"{' '.join(flags)}: {var}={env.get(var)!r} (want {want!r}) {err}")

    print("-- the values table")
    values_path = Path(args.chart) / "values.yaml"
    values = yaml.safe_load(values_path.read_text())
    want = chart_values_table.rows(values)
    notes = chart_values_table.comments(values_path)
    undocumented = [k for k, _ in want if not notes.get(k)]
    c.check(not undocumented, f"values.yaml: all {len(want)} rows have a `# --` description {undocumented or ''}")
    for doc in args.docs:
        got = chart_values_table.doc_rows(doc.read_text(encoding="utf-8"))
        if got is None:
            c.check(False, f"{doc}: no values table between {chart_values_table.BEGIN} and {chart_values_table.END}")
            continue
        missing = [k for k, _ in want if k not in dict(got)]
        extra = [k for k, _ in got if k not in dict(want)]
        wrong = [f"{k}: {d} (values.yaml: {dict(want)[k]})" for k, d in got if k in dict(want) and dict(want)[k] != d]
        c.check(got == want, f"{doc}: values table = values.yaml ({len(got)} rows)"
                + (f" missing {missing}" if missing else "") + (f" extra {extra}" if extra else "")
                + (f" wrong defaults {wrong}" if wrong else "") + (" order differs" if not (missing or extra or wrong) and got != want else ""))

    print(f"chart_checks: {c.passed} passed, {c.failed} failed; {n} built-in objects in {objects_dir}")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
