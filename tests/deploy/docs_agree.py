"""What the Kubernetes walkthroughs (docs/kubernetes.md and its translations)
say about the manifests, checked against the rendered manifests: the checks
of scripts/validate-deploy.sh that read prose.

Only facts a file can show are checked:
  - every path of deploy/base is listed in the doc's table;
  - Service names: kube-prometheus-stack's Prometheus and Grafana Services
    the doc names follow the chart's naming rule (chart_names.py) for the
    release label deploy/base sets, or for the release they are an example
    of; in-cluster URLs (http://NAME:PORT/) name the app's Service and port;
  - namespaces: the base sets none, so the raw custom-metrics API paths and
    the Prometheus target name must not hard-code one (`namespaces/default`);
    the monitoring namespace the doc installs into is the adapter URL's;
  - the HPA thresholds in the overview diagram are the ones the HPA acts on
    (target x 1.1, its default tolerance), written `qps > N`;
  - the minimum Kubernetes version the doc's prerequisites (section "## 0.")
    state is the one the manifests need (1.30 for `preStop: sleep`) and the
    one validated against;
  - every `custom-metrics-app:<tag>` image the doc names is the rendered one;
  - the KEDA overlay's trigger queries, as rendered, appear verbatim (in a
    table, with `|` escaped) and the overlay is listed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, NamedTuple

import chart_names

Check = Callable[..., bool]

# The kube-controller-manager's --horizontal-pod-autoscaler-tolerance default.
HPA_TOLERANCE = 0.1


class Facts(NamedTuple):
    """What the rendered manifests say, for the docs to agree with."""

    base_files: list[str]  # deploy/base/... paths (files, and directories of files)
    release: str  # the `release` label on the ServiceMonitor/PrometheusRule
    prometheus_url: str  # the adapter's prometheus.url
    service: str  # the app's Service name
    service_port: int
    namespaced: bool  # whether any base object sets metadata.namespace
    hpa_targets: dict[str, float]  # Pods metric name -> averageValue
    min_kubernetes: str  # "1.30": what the manifests need and are validated against
    image: str  # the rendered image of the Deployment
    keda_queries: tuple[str, ...] = ()  # the keda overlay's trigger queries, rendered


def hpa_threshold(target: float) -> str:
    """The per-pod average above which the HPA adds pods, as the docs write it."""
    return f"{round(target * (1 + HPA_TOLERANCE), 6):g}"


def first_code_block(text: str) -> str:
    m = re.search(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    return m.group(1) if m else ""


def check_doc(check: Check, doc: Path, facts: Facts) -> None:
    text = doc.read_text(encoding="utf-8")
    name = str(doc)

    missing = [f for f in facts.base_files if f"`{f}`" not in text and f"`{f}/`" not in text]
    check(not missing, f"{name}: lists every file of deploy/base", f"missing {missing}")

    # kube-prometheus-stack Service names: each must be what the chart names
    # it for some release; the ones in commands for the deployed release.
    for token in sorted(set(re.findall(r"\b[a-z0-9][a-z0-9-]*kube-prometheus[a-z0-9-]*-prometheus\b", text))):
        release = "kube-prometheus-stack" if token.startswith("kube-prometheus") else token.split("-kube-prometheus")[0]
        check(
            chart_names.prometheus_service(release) == token,
            f"{name}: Prometheus Service {token} is the chart's name for release {release}",
            f"the chart names it {chart_names.prometheus_service(release)}",
        )
    want_prom = chart_names.prometheus_service(facts.release)
    want_grafana = chart_names.grafana_service(facts.release)
    for kind, want in (("prometheus", want_prom), ("grafana", want_grafana)):
        used = set(re.findall(rf"(?:svc/|secret |deploy/)([a-z0-9-]+-{kind})(?![\w-])", text))
        check(
            used == {want},
            f"{name}: commands name the {kind} Service of release {facts.release}: {want}",
            f"found {sorted(used)}",
        )
    m = re.match(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc", facts.prometheus_url)
    if check(bool(m), f"adapter prometheus.url is http://SERVICE.NAMESPACE.svc", facts.prometheus_url):
        check(
            m.group(1) == want_prom,
            f"adapter prometheus.url names the Prometheus Service of release {facts.release}",
            f"{m.group(1)} != {want_prom}",
        )
        # The prometheus-community charts (the stack, the adapter); KEDA has
        # its own namespace.
        joined = text.replace("\\\n", " ")  # shell line continuations
        commands = re.findall(r"helm (?:install|upgrade)[^\n]*", joined)
        installs = {
            ns
            for cmd in commands
            if "prometheus-community/" in cmd
            for ns in re.findall(r"--namespace (\S+)", cmd)
        }
        check(
            installs == {m.group(2)},
            f"{name}: helm installs the prometheus-community charts into the adapter URL's namespace {m.group(2)}",
            f"found {sorted(installs)}",
        )
    urls = set(re.findall(r"http://([a-z][a-z0-9-]*):(\d+)/", text)) - {("localhost", p) for p in ("3000", "3001", "9090")}
    check(
        urls <= {(facts.service, str(facts.service_port))},
        f"{name}: in-cluster URLs name Service {facts.service} port {facts.service_port}",
        f"found {sorted(urls)}",
    )

    # Namespaces: the base sets none, so the doc must not assume one.
    if not facts.namespaced:
        fixed = sorted(set(re.findall(r"/namespaces/([a-z0-9-]+)/", text)))
        check(not fixed, f"{name}: custom-metrics API paths follow the deployed namespace", f"hard-coded {fixed}")
        fixed = sorted(set(re.findall(r"serviceMonitor/([a-z0-9-]+)/", text)))
        check(not fixed, f"{name}: the Prometheus target name follows the deployed namespace", f"hard-coded {fixed}")

    diagram = first_code_block(text)
    for metric, target in facts.hpa_targets.items():
        said = re.findall(rf"{metric}\s*(>=|≥|>)\s*(\d+(?:\.\d+)?)", diagram)
        want = hpa_threshold(target)
        check(
            said == [(">", want)],
            f"{name}: the diagram adds pods at {metric} > {want} (target {target:g} + {HPA_TOLERANCE:.0%})",
            f"found {said}",
        )

    prerequisites = re.search(r"^## 0\..*?(?=^## )", text, re.S | re.M)
    check(
        bool(prerequisites) and f"Kubernetes {facts.min_kubernetes}" in prerequisites.group(0),
        f"{name}: its prerequisites (## 0.) state Kubernetes {facts.min_kubernetes}",
    )

    # (custom-metrics-app:3000/ is a URL, not an image.)
    images = set(re.findall(r"\bcustom-metrics-app:(?![0-9]+/)[a-z0-9][a-z0-9._-]*", text))
    check(
        images <= {facts.image},
        f"{name}: the images it names are the rendered {facts.image}",
        f"found {sorted(images)}",
    )
    check_keda(check, name, text, facts)


def check_keda(check: Check, name: str, text: str, facts: Facts) -> None:
    """The walkthrough shows the KEDA queries users get, not an old copy."""
    if not facts.keda_queries:
        return
    check("`deploy/overlays/keda/`" in text, f"{name}: lists deploy/overlays/keda/")
    for query in facts.keda_queries:
        check(
            query in text or query.replace("|", "\\|") in text,
            f"{name}: shows the rendered KEDA query {query}",
        )
