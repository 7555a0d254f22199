"""Consistency checks over the rendered deploy/ manifests, for
scripts/validate-deploy.sh.

Schema validation (kubernetes-validate) says each object is well formed; this
says they fit together: the Service selects the pods and names the port the
ServiceMonitor scrapes, the HPA asks for metrics the adapter serves, the rate
window suits the scrape interval, the load Jobs are bounded, and so on.

    python3 tests/deploy/check_deploy.py --out DIR \\
        --rendered base=FILE --rendered real-sensors=FILE \\
        --jobs deploy/loadgen/*.yaml --values deploy/prometheus-adapter-values.yaml \\
        [--deploy deploy --min-kubernetes 1.30 --docs docs/kubernetes.md docs/kubernetes.zh-CN.md]

With --docs, what the walkthroughs say is checked against the manifests too
(docs_agree.py: Service names, namespaces, HPA thresholds, minimum
Kubernetes version, image).

It also writes, under DIR:
  objects/NNN-<kind>-<name>.yaml   one file per built-in object, for kubernetes-validate
  promql-rules.yaml                every PromQL expression (alerts, rendered adapter
                                   queries, dashboard panels) as a rule file for
                                   `promtool check rules`
and prints one line per check. Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adapter_rules  # noqa: E402
import docs_agree  # noqa: E402
import keda_checks  # noqa: E402

# Custom resources: kubernetes-validate has no schema for them, so they are
# skipped by kind, explicitly. Anything else without a schema is an error.
# KEDA's ScaledObject is validated by keda_checks.py against its CRD schema
# instead; the Prometheus Operator's kinds only by the checks here.
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "no schema in kubernetes-validate",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "no schema in kubernetes-validate",
    ("keda.sh/v1alpha1", "ScaledObject"): "validated against KEDA 2.20's CRD schema by keda_checks.py",
}

APP = "custom-metrics-app"
PROBE_APIS = ("metrics", "healthz", "readyz")


class Checker:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}" + (f": {detail}" if detail else ""))
        return ok


def load_docs(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(objs: Iterable[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objs if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]


def one(c: Checker, objs: list[dict], kind: str, where: str) -> dict | None:
    found = find(objs, kind)
    if c.check(len(found) == 1, f"{where}: exactly one {kind}", f"found {len(found)}"):
        return found[0]
    return None


def seconds(text: str) -> float:
    """Prometheus/Go style durations: 90s, 5m, 1h30m, 1.5s, 250ms."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * scale[u] for n, u in parts)


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


# --------------------------------------------------------------------------
# Per-object checks


def check_deployment(c: Checker, dep: dict, where: str) -> None:
    spec = dep["spec"]
    c.check("replicas" not in spec, f"{where}: Deployment has no spec.replicas (the HPA owns it)")
    tmpl = spec["template"]
    c.check(
        selects(spec["selector"].get("matchLabels", {}), tmpl["metadata"].get("labels", {})),
        f"{where}: Deployment selector matches its pod template",
    )
    ann = tmpl["metadata"].get("annotations", {})
    c.check(
        ann.get("prometheus.io/port") == "3000"
        and ann.get("prometheus.io/path") == "/metrics"
        and ann.get("prometheus.io/scrape") == "true",
        f"{where}: prometheus.io/* annotations say port 3000, /metrics",
        repr(ann),
    )
    pod = tmpl["spec"]
    psc = pod.get("securityContext", {})
    c.check(
        psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        f"{where}: pod securityContext runAsNonRoot + seccomp RuntimeDefault",
    )
    grace = pod.get("terminationGracePeriodSeconds", 30)
    for ctr in pod["containers"]:
        name = f"{where}: container {ctr['name']}"
        ports = {p.get("name"): p for p in ctr.get("ports", [])}
        c.check(
            ports.get("http", {}).get("containerPort") == 3000,
            f"{name}: port 3000 named http",
            repr(ctr.get("ports")),
        )
        live = ctr.get("livenessProbe", {}).get("httpGet", {})
        ready = ctr.get("readinessProbe", {}).get("httpGet", {})
        c.check(live.get("path") == "/healthz", f"{name}: liveness probe on /healthz", repr(live))
        c.check(ready.get("path") == "/readyz", f"{name}: readiness probe on /readyz", repr(ready))
        res = ctr.get("resources", {})
        c.check(
            {"cpu", "memory"} <= set(res.get("requests", {})) and "memory" in res.get("limits", {}),
            f"{name}: cpu/memory requests and a memory limit",
            repr(res),
        )
        sc = ctr.get("securityContext", {})
        c.check(
            sc.get("allowPrivilegeEscalation") is False
            and sc.get("readOnlyRootFilesystem") is True
            and sc.get("capabilities", {}).get("drop") == ["ALL"]
            and (sc.get("runAsNonRoot") is True or psc.get("runAsNonRoot") is True),
            f"{name}: securityContext (no privilege escalation, read-only root, drop ALL, non-root)",
            repr(sc),
        )
        timeout = env_of(ctr).get("CMA_SHUTDOWN_TIMEOUT")
        if timeout is not None:
            c.check(
                float(timeout) < grace,
                f"{name}: CMA_SHUTDOWN_TIMEOUT ({timeout} s) < terminationGracePeriodSeconds ({grace})",
            )


def image_tag(image: str) -> str | None:
    """The tag of NAME[:TAG][@DIGEST]: after the last ':' that follows the last '/'."""
    last = image.split("@")[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def check_version_label(c: Checker, dep: dict, where: str) -> None:
    """app.kubernetes.io/version on the Deployment and its pods is the image's tag."""
    image = dep["spec"]["template"]["spec"]["containers"][0].get("image", "")
    tag = image_tag(image)
    c.check(bool(tag), f"{where}: the image has a tag", image)
    for what, labels in (
        ("Deployment", dep["metadata"].get("labels", {})),
        ("pod template", dep["spec"]["template"]["metadata"].get("labels", {})),
    ):
        version = labels.get("app.kubernetes.io/version")
        c.check(
            version == tag,
            f"{where}: {what} label app.kubernetes.io/version {version!r} is the image tag {tag!r}",
        )
    c.check(
        "app.kubernetes.io/version" not in dep["spec"]["selector"].get("matchLabels", {}),
        f"{where}: the version label is not in the selector (selectors are immutable)",
    )


def check_pdb(c: Checker, pdb: dict, dep: dict, jobs: list[tuple[str, dict]], where: str) -> None:
    """One pod at most down in a drain: never all of several, never stuck at one."""
    c.check(pdb["apiVersion"] == "policy/v1", f"{where}: PodDisruptionBudget is policy/v1", pdb["apiVersion"])
    spec = pdb["spec"]
    selector = spec.get("selector", {}).get("matchLabels", {})
    c.check(
        selects(selector, dep["spec"]["template"]["metadata"].get("labels", {})),
        f"{where}: PodDisruptionBudget selects the Deployment's pods",
        repr(selector),
    )
    for name, job in jobs:
        labels = job.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        c.check(not selects(selector, labels), f"{where}: PodDisruptionBudget does not select the {name} Job's pods")
    c.check(
        spec.get("maxUnavailable") == 1 and "minAvailable" not in spec,
        f"{where}: PodDisruptionBudget maxUnavailable 1 (a drain keeps all but one of several pods "
        "and can still evict a single one; minAvailable 1 would block it)",
        repr(spec),
    )


def check_service(c: Checker, svc: dict, dep: dict, where: str) -> None:
    tmpl = dep["spec"]["template"]
    c.check(
        selects(svc["spec"].get("selector", {}), tmpl["metadata"].get("labels", {})),
        f"{where}: Service selects the Deployment's pods",
    )
    port_names = {p.get("name") for ctr in tmpl["spec"]["containers"] for p in ctr.get("ports", [])}
    http = [p for p in svc["spec"].get("ports", []) if p.get("name") == "http"]
    c.check(
        len(http) == 1 and http[0].get("port") == 3000 and http[0].get("targetPort") in ("http", 3000)
        and (http[0].get("targetPort") != "http" or "http" in port_names),
        f"{where}: Service port http 3000 -> container port http",
        repr(svc["spec"].get("ports")),
    )


def check_hpa(c: Checker, hpa: dict, dep: dict, served: set[str], where: str) -> None:
    c.check(hpa["apiVersion"] == "autoscaling/v2", f"{where}: HPA is autoscaling/v2", hpa["apiVersion"])
    spec = hpa["spec"]
    ref = spec["scaleTargetRef"]
    c.check(
        (ref.get("apiVersion"), ref.get("kind"), ref.get("name")) == ("apps/v1", "Deployment", dep["metadata"]["name"]),
        f"{where}: HPA targets Deployment {dep['metadata']['name']}",
        repr(ref),
    )
    c.check(
        (spec.get("minReplicas"), spec.get("maxReplicas")) == (1, 10),
        f"{where}: HPA min 1, max 10",
        f"{spec.get('minReplicas')}..{spec.get('maxReplicas')}",
    )
    behavior = spec.get("behavior", {})
    c.check("scaleUp" in behavior and "scaleDown" in behavior, f"{where}: HPA has an explicit behavior")
    want = {"qps": "500", "cpuTemperature": "80"}
    got = {}
    for m in spec.get("metrics", []):
        if m.get("type") != "Pods":
            continue
        name = m["pods"]["metric"]["name"]
        target = m["pods"]["target"]
        got[name] = str(target.get("averageValue"))
        c.check(
            target.get("type") == "AverageValue" and not got[name].endswith("m"),
            f"{where}: HPA metric {name} targets AverageValue {got[name]!r} (not a milli-quantity)",
        )
        c.check(name in served, f"{where}: HPA metric {name} is served by a prometheus-adapter rule", f"served: {sorted(served)}")
    c.check(got == want, f"{where}: HPA Pods targets are {want}", repr(got))


def check_servicemonitor(c: Checker, sm: dict, svc: dict, where: str) -> float:
    labels = sm["metadata"].get("labels", {})
    c.check(bool(labels.get("release")), f"{where}: ServiceMonitor has the release label kube-prometheus-stack selects by", repr(labels))
    spec = sm["spec"]
    c.check(
        selects(spec.get("selector", {}).get("matchLabels", {}), svc["metadata"].get("labels", {})),
        f"{where}: ServiceMonitor selects the Service",
    )
    svc_ports = {p.get("name") for p in svc["spec"].get("ports", [])}
    intervals = []
    for ep in spec.get("endpoints", []):
        c.check(ep.get("port") in svc_ports, f"{where}: ServiceMonitor endpoint port {ep.get('port')!r} is a Service port")
        c.check(ep.get("path", "/metrics") == "/metrics", f"{where}: ServiceMonitor scrapes /metrics")
        intervals.append(seconds(ep.get("interval", "30s")))
        if "scrapeTimeout" in ep:
            c.check(
                seconds(ep["scrapeTimeout"]) <= intervals[-1],
                f"{where}: scrapeTimeout {ep['scrapeTimeout']} <= interval {ep.get('interval')}",
            )
    return max(intervals) if intervals else 30.0


def check_prometheusrule(c: Checker, pr: dict, where: str) -> list[dict]:
    labels = pr["metadata"].get("labels", {})
    c.check(bool(labels.get("release")), f"{where}: PrometheusRule has the release label", repr(labels))
    groups = pr["spec"].get("groups", [])
    exprs = " ".join(r.get("expr", "") for g in groups for r in g.get("rules", []))
    for needle, what in [
        ("up{", "target down"),
        ("cpu_temperature_celsius", "temperature high"),
        ("kube_horizontalpodautoscaler_spec_max_replicas", "HPA at max replicas"),
        ('status=~"5.."', "error ratio"),
    ]:
        c.check(needle in exprs, f"{where}: PrometheusRule alerts on {what}")
    error_ratio = [r for g in groups for r in g.get("rules", []) if 'status=~"5.."' in r.get("expr", "")]
    for r in error_ratio:
        c.check(
            "/" in r["expr"] and 'api!~"metrics|healthz|readyz"' in r["expr"] and ">" in r["expr"],
            f"{where}: {r.get('alert')} is a ratio of 5xx to all answers, scrapes and probes left out",
            r["expr"],
        )
    return groups


def check_dashboard(c: Checker, cm: dict, where: str) -> list[tuple[str, str]]:
    c.check(cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1", f"{where}: dashboard ConfigMap labelled grafana_dashboard=\"1\"")
    exprs = []
    for key, text in cm.get("data", {}).items():
        try:
            dash = json.loads(text)
        except json.JSONDecodeError as e:
            c.check(False, f"{where}: {key} is JSON", str(e))
            continue
        c.check(bool(dash.get("uid")) and bool(dash.get("panels")), f"{where}: {key} is a dashboard with a uid and panels")
        for panel in dash.get("panels", []):
            for t in panel.get("targets", []):
                if t.get("expr"):
                    exprs.append((f"panel {panel.get('id')} {t.get('refId')}", t["expr"]))
        joined = " ".join(e for _, e in exprs)
        for needle, what in [
            ("total_req_num", "per-pod qps"),
            ("cpu_temperature_celsius", "temperature"),
            ("kube_horizontalpodautoscaler_status_current_replicas", "replicas"),
            ("http_request_duration_seconds_bucket", "latency p99"),
            ('status=~"5.."', "error ratio"),
            ("histogram_quantile(0.5,", "latency p50"),
        ]:
            c.check(needle in joined, f"{where}: {key} shows {what}")
    return exprs


def check_adapter_values(c: Checker, values_path: Path, scrape_interval: float) -> tuple[set[str], list[tuple[str, str]]]:
    where = values_path.name
    try:
        values = adapter_rules.load_values(values_path)
    except (OSError, yaml.YAMLError, adapter_rules.RuleError) as e:
        c.check(False, f"{where}: parses", str(e).replace("\n", " "))
        return set(), []
    prom = values.get("prometheus", {})
    c.check(
        str(prom.get("url", "")).startswith("http://") and prom.get("port") == 9090,
        f"{where}: prometheus url/port set ({prom.get('url')}:{prom.get('port')})",
    )
    c.check(values.get("rules", {}).get("default") is False, f"{where}: rules.default is false")
    # Only one server can hold v1beta1.external.metrics.k8s.io: KEDA's. The
    # chart creates that APIService whenever rules.external is non-empty.
    rules = values.get("rules", {})
    c.check(
        "external" in rules and rules["external"] in ([], None) and not rules.get("existing"),
        f"{where}: rules.external is explicitly empty (external metrics off: KEDA holds that API)",
        repr(rules.get("external", "<unset>")),
    )
    try:
        rendered = adapter_rules.render_rules(values_path, "default", ["a", "b", "c"])
    except adapter_rules.RuleError as e:
        c.check(False, f"{where}: every custom rule renders", str(e))
        return set(), []
    c.check(True, f"{where}: every custom rule renders ({len(rendered)} rules)")
    for r in rendered:
        c.check(
            'namespace="default"' in r.promql and 'pod=~"a|b|c"' in r.promql and "by (pod)" in r.promql,
            f"{where}: {r.metric} query keeps the adapter's label matchers and group-by",
            r.promql,
        )
        windows = [seconds(w) for w in re.findall(r"\[([0-9a-z.]+)\]", r.promql)]
        for w in windows:
            c.check(
                w >= 4 * scrape_interval,
                f"{where}: {r.metric} rate window {w:g}s >= 4 x scrape interval {scrape_interval:g}s",
            )
        if r.metric == "qps":
            c.check(
                all(a in r.promql for a in PROBE_APIS) and "api!~" in r.promql,
                f"{where}: qps leaves out scrapes and probes (api metrics|healthz|readyz)",
                r.promql,
            )
            c.check(bool(windows) and "rate(" in r.promql, f"{where}: qps is a rate()")
    return {r.metric for r in rendered}, [(f"adapter {r.metric}", r.promql) for r in rendered]


def check_cpu_hpa(c: Checker, hpa: dict, dep: dict, where: str) -> None:
    """The CPU-utilisation alternative: a Resource metric on cpu, and CPU requests to take a share of."""
    metrics = hpa["spec"].get("metrics", [])
    cpu = [m for m in metrics if m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu"]
    c.check(len(cpu) == 1 and len(metrics) == 1, f"{where}: the HPA scales on CPU utilisation only", repr(metrics))
    if cpu:
        target = cpu[0]["resource"].get("target", {})
        c.check(
            target.get("type") == "Utilization" and 0 < int(target.get("averageUtilization", 0)) <= 100,
            f"{where}: CPU target is a utilisation percentage",
            repr(target),
        )
    for ctr in dep["spec"]["template"]["spec"]["containers"]:
        c.check(
            bool(ctr.get("resources", {}).get("requests", {}).get("cpu")),
            f"{where}: container {ctr.get('name')} requests CPU (utilisation is a share of it)",
        )


def check_real_sensors(c: Checker, dep: dict, where: str) -> None:
    pod = dep["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    ctr = pod["containers"][0]
    mounts = [m for m in ctr.get("volumeMounts", []) if "hostPath" in volumes.get(m["name"], {})]
    c.check(bool(mounts), f"{where}: mounts a hostPath")
    c.check(all(m.get("readOnly") is True for m in mounts), f"{where}: every hostPath mount is read-only")
    paths = {volumes[m["name"]]["hostPath"]["path"] for m in mounts}
    c.check(
        any(p in ("/sys", "/sys/class/thermal", "/sys/class/hwmon") for p in paths),
        f"{where}: the hostPath is the node's sysfs",
        repr(sorted(paths)),
    )
    source = env_of(ctr).get("CMA_TEMPERATURE_SOURCE")
    c.check(source in ("auto", "thermal", "hwmon"), f"{where}: CMA_TEMPERATURE_SOURCE selects a real sensor", repr(source))


def check_trip_ratio_hpa(c: Checker, hpa: dict, served: set, where: str) -> None:
    """The real-sensors overlay adds cpuTemperatureTripRatio (0.85) to the base's two metrics."""
    targets = {
        m["pods"]["metric"]["name"]: str(m["pods"]["target"].get("averageValue"))
        for m in hpa["spec"].get("metrics", [])
        if m.get("type") == "Pods"
    }
    want = {"qps": "500", "cpuTemperature": "80", "cpuTemperatureTripRatio": "0.85"}
    c.check(targets == want, f"{where}: HPA Pods targets are {want}", repr(targets))
    c.check("cpuTemperatureTripRatio" in served, f"{where}: cpuTemperatureTripRatio is served by a prometheus-adapter rule")


def check_job(c: Checker, job: dict, image: str | None, where: str) -> None:
    spec = job["spec"]
    pod = spec["template"]["spec"]
    deadline = spec.get("activeDeadlineSeconds")
    c.check(isinstance(deadline, int) and deadline > 0, f"{where}: bounded by activeDeadlineSeconds", repr(deadline))
    c.check(pod.get("restartPolicy") in ("Never", "OnFailure"), f"{where}: restartPolicy Never/OnFailure")
    for ctr in pod["containers"]:
        args = [str(a) for a in (ctr.get("command", []) + ctr.get("args", []))]
        c.check(bool(args) and args[0] == "loadgen", f"{where}: runs the app's loadgen subcommand", repr(args))
        if image:
            c.check(ctr.get("image") == image, f"{where}: uses the app's image {image}", repr(ctr.get("image")))
        opts = {}
        for a in args[1:]:
            if a.startswith("--") and "=" in a:
                k, v = a[2:].split("=", 1)
                opts[k] = v
        c.check("url" in opts, f"{where}: loadgen --url given (as --url=VALUE)")
        if "stages" in opts:
            # k6-style stages instead of --rate/--duration: DURATION:RATE or DURATION:FROM-TO.
            c.check(
                "rate" not in opts and "duration" not in opts,
                f"{where}: --stages without --rate/--duration",
            )
            total = 0.0
            for stage in opts["stages"].split(","):
                length, _, rates = stage.partition(":")
                total += seconds(length)
                c.check(
                    all(r.replace(".", "", 1).isdigit() for r in rates.split("-")) and rates.count("-") <= 1,
                    f"{where}: stage {stage!r} is DURATION:RATE or DURATION:FROM-TO",
                )
            if isinstance(deadline, int):
                c.check(total < deadline, f"{where}: stages last {total:g}s < activeDeadlineSeconds {deadline}")
        else:
            for flag in ("rate", "duration"):
                c.check(flag in opts, f"{where}: loadgen --{flag} given (as --{flag}=VALUE)")
        if "duration" in opts and isinstance(deadline, int):
            c.check(
                seconds(opts["duration"]) < deadline,
                f"{where}: --duration {opts['duration']} < activeDeadlineSeconds {deadline}",
            )
        if "rate" in opts:
            c.check(float(opts["rate"]) > 0, f"{where}: --rate is positive")
        sc = ctr.get("securityContext", {})
        c.check(
            sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True,
            f"{where}: hardened securityContext",
        )


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def needed_kubernetes(dep: dict) -> str:
    """The oldest Kubernetes that serves every field the Deployment uses,
    for the fields that have raised it: `lifecycle.*.sleep` (1.30 beta, on by
    default; 1.29 alpha only)."""
    pod = dep["spec"]["template"]["spec"]
    for ctr in pod.get("containers", []):
        for hook in ctr.get("lifecycle", {}).values():
            if "sleep" in hook:
                return "1.30"
    return "1.27"


def base_files(deploy: Path) -> list[str]:
    """deploy/base's files, as the docs name them (a directory of files by its
    own path)."""
    base = deploy / "base"
    out = []
    for f in sorted(base.rglob("*")):
        if f.is_file():
            out.append(str(Path("deploy") / f.relative_to(deploy)))
    return out


def check_image_set_once(c: Checker, deploy: Path) -> None:
    """The tag is written in deploy/base/kustomization.yaml's `images` only:
    not in deployment.yaml and not in an overlay."""
    dep = load_docs(deploy / "base" / "deployment.yaml")
    images = [ctr.get("image", "") for d in dep for ctr in d["spec"]["template"]["spec"]["containers"]]
    c.check(
        all(image_tag(i) is None for i in images),
        "base/deployment.yaml names the image without a tag (kustomization.yaml sets it)",
        repr(images),
    )
    kz = load_docs(deploy / "base" / "kustomization.yaml")[0]
    tags = [i.get("newTag") for i in kz.get("images", []) if i.get("name") == APP]
    c.check(len(tags) == 1 and bool(tags[0]), "base/kustomization.yaml sets the image tag once", repr(tags))
    for overlay in sorted((deploy / "overlays").glob("*/kustomization.yaml")):
        okz = load_docs(overlay)[0]
        c.check(
            not any(i.get("newTag") for i in okz.get("images", [])),
            f"{overlay.parent.name}: sets no image tag of its own",
        )


# --------------------------------------------------------------------------


def split_objects(c: Checker, docs: list[tuple[str, dict]], out: Path) -> None:
    """One file per built-in object for kubernetes-validate; CRDs skipped by kind."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for where, obj in docs:
        key = (obj.get("apiVersion"), obj.get("kind"))
        name = obj.get("metadata", {}).get("name", "?")
        if key in CRD_KINDS:
            print(f"  skip  {where}: {key[1]}/{name} ({key[0]}): custom resource, {CRD_KINDS[key]}")
            continue
        n += 1
        path = out / f"{n:03d}-{where}-{obj['kind'].lower()}-{name}.yaml"
        path.write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
    c.check(n > 0, f"{n} built-in objects written for schema validation")


def promql_rule_file(alert_groups: list[dict], exprs: list[tuple[str, str]], path: Path) -> None:
    groups = [dict(g) for g in alert_groups]
    rules = []
    for i, (what, expr) in enumerate(exprs):
        # Grafana variables become plain values; the expression stays the same.
        expr = expr.replace("$namespace", "default").replace("${namespace}", "default")
        rules.append({"record": f"check:expr_{i:02d}", "expr": expr, "labels": {"origin": what}})
    groups.append({"name": "deploy-check-expressions", "rules": rules})
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--rendered", action="append", default=[], help="NAME=FILE of `kubectl kustomize` output")
    p.add_argument("--jobs", nargs="*", default=[], type=Path)
    p.add_argument("--values", required=True, type=Path)
    p.add_argument("--deploy", type=Path, help="the deploy/ directory, for checks of its source files")
    p.add_argument("--min-kubernetes", default="1.30", help="the oldest Kubernetes validated against")
    p.add_argument("--docs", nargs="*", default=[], type=Path, help="walkthroughs to check against the manifests")
    p.add_argument(
        "--keda-namespace",
        help="the namespace written into the keda overlay for the --rendered keda-namespace=FILE render",
    )
    args = p.parse_args(argv)

    c = Checker()
    all_docs: list[tuple[str, dict]] = []
    rendered = {}
    for item in args.rendered:
        name, _, file = item.partition("=")
        try:
            rendered[name] = load_docs(Path(file))
        except (OSError, yaml.YAMLError) as e:
            c.check(False, f"{name}: rendered output parses", str(e))
            continue
        all_docs += [(name, d) for d in rendered[name]]
    jobs = []
    for jf in args.jobs:
        try:
            jobs += [(jf.stem, d) for d in load_docs(jf)]
        except (OSError, yaml.YAMLError) as e:
            c.check(False, f"{jf}: parses", str(e))
    all_docs += jobs

    base = rendered.get("base", [])
    print("-- base")
    dep = one(c, base, "Deployment", "base")
    svc = one(c, base, "Service", "base")
    hpa = one(c, base, "HorizontalPodAutoscaler", "base")
    pdb = one(c, base, "PodDisruptionBudget", "base")
    sm = one(c, base, "ServiceMonitor", "base")
    pr = one(c, base, "PrometheusRule", "base")
    dash = [o for o in find(base, "ConfigMap") if "grafana_dashboard" in o["metadata"].get("labels", {})]
    c.check(len(dash) == 1, "base: one Grafana dashboard ConfigMap", f"found {len(dash)}")

    interval = 30.0
    alert_groups: list[dict] = []
    exprs: list[tuple[str, str]] = []
    if dep:
        check_deployment(c, dep, "base")
        check_version_label(c, dep, "base")
    if dep and pdb:
        check_pdb(c, pdb, dep, jobs, "base")
    if dep and svc:
        check_service(c, svc, dep, "base")
    if sm and svc:
        interval = check_servicemonitor(c, sm, svc, "base")
    if pr:
        alert_groups = check_prometheusrule(c, pr, "base")
    if dash:
        exprs += check_dashboard(c, dash[0], "base")

    print(f"-- {args.values}")
    served, adapter_exprs = check_adapter_values(c, args.values, interval)
    exprs += adapter_exprs
    if hpa and dep:
        check_hpa(c, hpa, dep, served, "base")

    values = {}
    try:
        values = adapter_rules.load_values(args.values)
    except (OSError, yaml.YAMLError, adapter_rules.RuleError):
        pass  # reported above
    prom = values.get("prometheus", {})
    prometheus_address = f"{prom.get('url', '')}:{prom.get('port', '')}{prom.get('path') or ''}"
    for name, objs in rendered.items():
        if name == "base":
            continue
        print(f"-- {name}")
        if name == "keda":
            exprs += keda_checks.check_overlay(c.check, objs, base, prometheus_address, interval, PROBE_APIS, name)
        if name == "keda-namespace":
            keda_checks.check_namespace_follows(c.check, objs, args.keda_namespace or "", name)
            all_docs = [(w, d) for w, d in all_docs if w != name]  # the same objects as keda's
            continue
        odep = one(c, objs, "Deployment", name)
        if odep:
            check_deployment(c, odep, name)
            check_version_label(c, odep, name)
            if name == "real-sensors":
                check_real_sensors(c, odep, name)
                ohpa = one(c, objs, "HorizontalPodAutoscaler", name)
                if ohpa:
                    check_trip_ratio_hpa(c, ohpa, served, name)
            if name == "cpu-hpa":
                ohpa = one(c, objs, "HorizontalPodAutoscaler", name)
                if ohpa:
                    check_cpu_hpa(c, ohpa, odep, name)
        if name != "keda":
            c.check(
                sorted((o["kind"], o["metadata"]["name"]) for o in objs)
                == sorted((o["kind"], o["metadata"]["name"]) for o in base),
                f"{name}: same objects as the base",
            )

    image = None
    if dep:
        image = dep["spec"]["template"]["spec"]["containers"][0].get("image")
    for where, job in jobs:
        print(f"-- {where}")
        c.check(job.get("kind") == "Job", f"{where}: is a Job", repr(job.get("kind")))
        if job.get("kind") == "Job":
            check_job(c, job, image, where)

    if args.deploy:
        print(f"-- {args.deploy} (source files)")
        check_image_set_once(c, args.deploy)

    if args.docs and dep and svc and hpa and sm:
        facts = docs_agree.Facts(
            base_files=base_files(args.deploy) if args.deploy else [],
            release=sm["metadata"].get("labels", {}).get("release", ""),
            prometheus_url=str(adapter_rules.load_values(args.values).get("prometheus", {}).get("url", "")),
            service=svc["metadata"]["name"],
            service_port=next(p["port"] for p in svc["spec"]["ports"] if p.get("name") == "http"),
            namespaced=any("namespace" in o.get("metadata", {}) for o in base),
            hpa_targets={
                m["pods"]["metric"]["name"]: float(m["pods"]["target"]["averageValue"])
                for m in hpa["spec"].get("metrics", [])
                if m.get("type") == "Pods"
            },
            min_kubernetes=args.min_kubernetes,
            image=dep["spec"]["template"]["spec"]["containers"][0].get("image", ""),
            keda_queries=tuple(
                str(t.get("metadata", {}).get("query", ""))
                for o in rendered.get("keda", [])
                if o.get("kind") == "ScaledObject"
                for t in o["spec"].get("triggers", [])
            ),
        )
        needs = needed_kubernetes(dep)
        c.check(
            version_tuple(args.min_kubernetes) >= version_tuple(needs),
            f"validated from Kubernetes {args.min_kubernetes}, which has what the Deployment uses (needs {needs})",
        )
        c.check(
            args.min_kubernetes == needs,
            f"the minimum Kubernetes stated ({args.min_kubernetes}) is what the manifests need ({needs})",
        )
        for doc in args.docs:
            print(f"-- {doc}")
            docs_agree.check_doc(c.check, doc, facts)

    print("-- objects")
    split_objects(c, all_docs, args.out / "objects")
    promql_rule_file(alert_groups, exprs, args.out / "promql-rules.yaml")
    print(f"  note  {len(exprs)} PromQL expressions + the alerts written to {args.out / 'promql-rules.yaml'}")

    print(f"consistency: {c.passed} ok, {c.failed} failing")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
