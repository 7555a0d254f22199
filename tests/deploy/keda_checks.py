"""Checks of deploy/overlays/keda for scripts/validate-deploy.sh (through
check_deploy.py): the ScaledObject against what KEDA 2.20 accepts, and
against the adapter route it must agree with.

Offline, KEDA's acceptance is checked as far as its published definitions
go:
  - the CRD schema of keda.sh/v1alpha1 ScaledObject from the keda 2.20.2
    chart (keda/scaledobject-spec.json, descriptions dropped), made strict:
    an object field the schema does not name is an error, as with
    `kubectl apply --validate=strict`; types, enums, minimums, required
    fields, and the CRD's one CEL rule (minReplicaCount <= maxReplicaCount);
  - metadata: only name, namespace, labels and annotations, all strings;
  - a `prometheus` trigger's metadata, which the CRD types only as a map of
    strings: every key must be one KEDA 2.20.2's Prometheus scaler reads
    (PROMETHEUS_METADATA, from its source), the required ones present,
    numbers and booleans parseable as the scaler parses them.
Not checked offline: KEDA's admission webhook (which also refuses a second
ScaledObject or HPA on the same Deployment: see docs/kubernetes.md) and
anything that needs the Prometheus server.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Callable

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent / "keda" / "scaledobject-spec.json"

# The trigger metadata keys KEDA 2.20.2's Prometheus scaler reads from
# triggerMetadata: the `keda:"name=..., order=triggerMetadata..."` tags of
# prometheusMetadata in pkg/scalers/prometheus_scaler.go and of
# authentication.Config in pkg/scalers/authentication/authentication_types.go
# (kedacore/keda tag v2.20.2). Keys the scaler does not know are ignored by
# KEDA, silently: a typo such as `ignoreNullValue` would leave the default.
PROMETHEUS_METADATA = {
    "serverAddress": "required",
    "query": "required",
    "threshold": "required float",
    "activationThreshold": "float",
    "queryParameters": "map",
    "namespace": "string (a tenant header for Thanos/Cortex, not the Kubernetes namespace)",
    "customHeaders": "map",
    "ignoreNullValues": "bool, default true",
    "unsafeSsl": "bool",
    "awsRegion": "string",
    "timeout": "duration",
    "identityOwner": "string",
    "authModes": "auth",
    "authMode": "auth",
    "apiKey": "auth",
    "method": "auth",
    "keyParamName": "auth",
}
PROMETHEUS_REQUIRED = ("serverAddress", "query", "threshold")
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}
# Go's strconv.ParseBool, which the scaler uses.
GO_BOOLS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}

Check = Callable[..., bool]


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def strict(schema):
    """The schema with `additionalProperties: false` on every object that
    lists its properties and does not keep unknown fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def field_paths(obj, prefix: str = "") -> list[str]:
    """The leaf field paths of `obj` (lists as [i])."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in field_paths(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in field_paths(v, f"{prefix}[{i}]")]
    return [prefix]


def go_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def prometheus_metadata_errors(index: int, metadata: dict) -> list[str]:
    where = f"spec.triggers[{index}].metadata"
    errors = [f"{where}.{k}: not a key KEDA's prometheus scaler reads" for k in metadata if k not in PROMETHEUS_METADATA]
    errors += [f"{where}.{k}: required" for k in PROMETHEUS_REQUIRED if k not in metadata]
    for k in ("threshold", "activationThreshold"):
        if k in metadata and not go_float(str(metadata[k])):
            errors.append(f"{where}.{k}: {metadata[k]!r} is not a number")
    for k in ("ignoreNullValues", "unsafeSsl"):
        if k in metadata and str(metadata[k]) not in GO_BOOLS:
            errors.append(f"{where}.{k}: {metadata[k]!r} is not a Go boolean")
    address = str(metadata.get("serverAddress", ""))
    if address and not re.match(r"^https?://[^/\s]+(/\S*)?$", address):
        errors.append(f"{where}.serverAddress: {address!r} is not an http(s) URL")
    return errors


def schema_errors(obj: dict, schema_doc: dict | None = None) -> list[str]:
    """Every way `obj` departs from KEDA 2.20's ScaledObject definition."""
    doc = schema_doc or load_schema()
    errors = []
    if obj.get("apiVersion") != doc["apiVersion"] or obj.get("kind") != doc["kind"]:
        errors.append(f"apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}, expected {doc['apiVersion']}/{doc['kind']}")
    extra = set(obj) - {"apiVersion", "kind", "metadata", "spec"}
    errors += [f"{k}: not a ScaledObject field" for k in sorted(extra)]
    errors += [f"{k}: required" for k in doc["required"] if k not in obj]
    meta = obj.get("metadata", {})
    errors += [f"metadata.{k}: not checked here (only {sorted(METADATA_FIELDS)})" for k in sorted(set(meta) - METADATA_FIELDS)]
    if not meta.get("name"):
        errors.append("metadata.name: required")
    for group in ("labels", "annotations"):
        for k, v in (meta.get(group) or {}).items():
            if not isinstance(v, str):
                errors.append(f"metadata.{group}.{k}: {v!r} is not a string")
    validator = jsonschema.Draft7Validator(strict(doc["spec"]))
    for e in sorted(validator.iter_errors(obj.get("spec", {})), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        errors.append(f"spec{path}: {e.message}")
    spec = obj.get("spec", {})
    # The CRD's x-kubernetes-validations rule, by hand (no CEL here).
    if "minReplicaCount" in spec and spec["minReplicaCount"] > spec.get("maxReplicaCount", 100):
        errors.append("spec: minReplicaCount must be less than or equal to maxReplicaCount (CRD rule)")
    for i, trigger in enumerate(spec.get("triggers", []) or []):
        if trigger.get("type") == "prometheus":
            errors += prometheus_metadata_errors(i, trigger.get("metadata", {}))
    return errors


def query_namespace(query: str) -> str | None:
    """The value of the query's first matcher when it is namespace="..."
    (where kustomization.yaml's replacement writes it)."""
    m = re.match(r'^[^"{]*\{\s*namespace\s*=\s*"([^"]*)"', query)
    return m.group(1) if m else None


def single_sample_aggregation(query: str) -> bool:
    """An outer sum(...) with no `by`/`without`: one sample whenever any
    series matched (the e2e test proves it on real data)."""
    q = query.strip()
    if not re.match(r"^sum\s*\(", q):
        return False
    depth = 0
    for i, ch in enumerate(q):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == ")":
            return i == len(q) - 1
    return False


def seconds(text: str) -> float:
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * scale[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text))


def check_overlay(
    c: Check,
    objs: list[dict],
    base: list[dict],
    prometheus_address: str,
    scrape_interval: float,
    probe_apis: tuple[str, ...],
    where: str,
) -> list[tuple[str, str]]:
    """The overlay against the base and the adapter values; returns the
    queries, for promtool."""
    keys = sorted((o["kind"], o["metadata"]["name"]) for o in objs)
    want = sorted([(o["kind"], o["metadata"]["name"]) for o in base if o["kind"] != "HorizontalPodAutoscaler"] + [("ScaledObject", "custom-metrics-app")])
    c(keys == want, f"{where}: the base's objects, its HorizontalPodAutoscaler replaced by a ScaledObject", repr(keys))
    c(not [o for o in objs if o["kind"] == "HorizontalPodAutoscaler"], f"{where}: no HorizontalPodAutoscaler (KEDA creates its own)")
    sos = [o for o in objs if o["kind"] == "ScaledObject"]
    if not c(len(sos) == 1, f"{where}: exactly one ScaledObject", f"found {len(sos)}"):
        return []
    so = sos[0]
    doc = load_schema()
    errors = schema_errors(so, doc)
    paths = field_paths(so)
    c(not errors, f"{where}: ScaledObject is valid, strictly, against {doc['$comment'].split(' from ')[0]} (KEDA 2.20.2)", "; ".join(errors))
    print(f"        fields checked ({len(paths)}): {', '.join(paths)}")
    check_refuses_broken(c, so, where)

    spec = so["spec"]
    hpas = [o for o in base if o["kind"] == "HorizontalPodAutoscaler"]
    deps = [o for o in objs if o["kind"] == "Deployment"]
    if not (hpas and deps):
        c(False, f"{where}: the base has an HPA and the overlay a Deployment to compare with")
        return []
    hpa, dep = hpas[0]["spec"], deps[0]
    ref = spec.get("scaleTargetRef", {})
    c(
        (ref.get("apiVersion", "apps/v1"), ref.get("kind", "Deployment"), ref.get("name")) == ("apps/v1", "Deployment", dep["metadata"]["name"]),
        f"{where}: ScaledObject scales Deployment {dep['metadata']['name']}",
        repr(ref),
    )
    c(
        (spec.get("minReplicaCount"), spec.get("maxReplicaCount")) == (hpa.get("minReplicas", 1), hpa.get("maxReplicas")),
        f"{where}: min/max replicas {spec.get('minReplicaCount')}..{spec.get('maxReplicaCount')} as the base HPA's",
    )
    c(
        (spec.get("minReplicaCount") or 0) >= 1 and "idleReplicaCount" not in spec,
        f"{where}: never scales to zero (minReplicaCount >= 1, no idleReplicaCount)",
    )
    hpa_config = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {})
    c(hpa_config.get("behavior") == hpa.get("behavior"), f"{where}: KEDA's HPA has the base HPA's behavior")
    c(
        hpa_config.get("name") == hpas[0]["metadata"]["name"],
        f"{where}: KEDA's HPA is named {hpas[0]['metadata']['name']!r} (the alerts and dashboard select it by name)",
        repr(hpa_config.get("name")),
    )
    for field in ("pollingInterval", "cooldownPeriod", "fallback"):
        c(field in spec, f"{where}: {field} set explicitly")
    fallback = spec.get("fallback", {})
    c(
        fallback.get("replicas", 0) >= spec.get("minReplicaCount", 1) and fallback.get("failureThreshold", 0) >= 1,
        f"{where}: fallback holds at least minReplicaCount replicas after failed reads",
        repr(fallback),
    )

    namespace = so["metadata"].get("namespace")
    c(bool(namespace), f"{where}: the ScaledObject has an explicit namespace", repr(namespace))
    stray = sorted({str(o["metadata"].get("namespace")) for o in objs} - {namespace})
    c(not stray, f"{where}: every object is in namespace {namespace!r}", repr(stray))

    targets = {m["pods"]["metric"]["name"]: str(m["pods"]["target"]["averageValue"]) for m in hpa.get("metrics", []) if m.get("type") == "Pods"}
    triggers = spec.get("triggers", [])
    c(
        sorted(t.get("name", "") for t in triggers) == sorted(targets),
        f"{where}: one trigger per base HPA metric, named after it",
        f"triggers {[t.get('name') for t in triggers]}, HPA {sorted(targets)}",
    )
    exprs = []
    for t in triggers:
        name, meta = t.get("name", "?"), t.get("metadata", {})
        tw = f"{where}: trigger {name}"
        query = str(meta.get("query", ""))
        c(t.get("type") == "prometheus", f"{tw}: type prometheus")
        c(
            t.get("metricType") == "AverageValue",
            f"{tw}: metricType AverageValue, written out (KEDA's HPA divides the query's total by the replicas)",
            repr(t.get("metricType")),
        )
        if name in targets:
            c(
                go_float(str(meta.get("threshold"))) and float(meta["threshold"]) == float(targets[name]),
                f"{tw}: threshold {meta.get('threshold')!r} is the base HPA's per-pod target {targets[name]!r}",
            )
        c(meta.get("serverAddress") == prometheus_address, f"{tw}: serverAddress is the adapter's Prometheus {prometheus_address}", repr(meta.get("serverAddress")))
        c(
            str(meta.get("ignoreNullValues")).lower() in ("false", "f", "0"),
            f"{tw}: ignoreNullValues false (a missing series is an error, not 0)",
            repr(meta.get("ignoreNullValues")),
        )
        c(
            "activationThreshold" not in meta,
            f"{tw}: no activationThreshold (it only acts between 0 and 1 replicas, and zero is not offered)",
        )
        c(
            query_namespace(query) == namespace,
            f"{tw}: the query's first matcher is namespace=\"{namespace}\", the objects' namespace",
            query,
        )
        c('job="custom-metrics-app"' in query, f"{tw}: the query selects the app's scrape job", query)
        c(single_sample_aggregation(query), f"{tw}: the query is one sum(...) (one sample)", query)
        for w in re.findall(r"\[([0-9a-z.]+)\]", query):
            c(seconds(w) >= 4 * scrape_interval, f"{tw}: rate window {w} >= 4 x scrape interval {scrape_interval:g}s")
        if name == "qps":
            c(
                "rate(" in query and "api!~" in query and all(a in query for a in probe_apis),
                f"{tw}: a rate() that leaves out scrapes and probes",
                query,
            )
        exprs.append((f"keda {name}", query))
    return exprs


def check_namespace_follows(c: Check, objs: list[dict], namespace: str, where: str) -> None:
    """The overlay rendered after editing its `namespace:` line: every object
    and every query follow."""
    sos = [o for o in objs if o["kind"] == "ScaledObject"]
    if not c(len(sos) == 1, f"{where}: exactly one ScaledObject"):
        return
    got = sorted({str(o["metadata"].get("namespace")) for o in objs})
    c(got == [namespace], f"{where}: every object moved to namespace {namespace!r}", repr(got))
    for t in sos[0]["spec"].get("triggers", []):
        query = str(t.get("metadata", {}).get("query", ""))
        c(query_namespace(query) == namespace, f"{where}: trigger {t.get('name')} queries namespace {namespace!r}", query)


def broken_variants(so: dict) -> dict[str, dict]:
    """Known-bad copies of a valid ScaledObject, each of which the strict
    check must refuse (so that the check is seen to be able to fail)."""
    import copy

    def variant(change: Callable[[dict], None]) -> dict:
        v = copy.deepcopy(so)
        change(v)
        return v

    def first_trigger(v: dict) -> dict:
        return v["spec"]["triggers"][0]

    return {
        "an unknown spec field (minReplicas)": variant(lambda v: v["spec"].__setitem__("minReplicas", 1)),
        "a misspelt metadata key (ignoreNullValue)": variant(lambda v: first_trigger(v)["metadata"].__setitem__("ignoreNullValue", "false")),
        "a number where KEDA wants a string (threshold: 500)": variant(lambda v: first_trigger(v)["metadata"].__setitem__("threshold", 500)),
        "no query": variant(lambda v: first_trigger(v)["metadata"].pop("query")),
        "an unknown fallback behavior": variant(lambda v: v["spec"].__setitem__("fallback", {"failureThreshold": 3, "replicas": 2, "behavior": "hold"})),
        "minReplicaCount above maxReplicaCount": variant(lambda v: v["spec"].__setitem__("minReplicaCount", 11)),
        "a string pollingInterval": variant(lambda v: v["spec"].__setitem__("pollingInterval", "15s")),
        "an unknown trigger field (metric_type)": variant(lambda v: first_trigger(v).__setitem__("metric_type", "Value")),
    }


def check_refuses_broken(c: Check, so: dict, where: str) -> None:
    doc = load_schema()
    accepted = [name for name, v in broken_variants(so).items() if not schema_errors(v, doc)]
    c(not accepted, f"{where}: the strict ScaledObject check refuses every known-bad variant", f"accepted: {accepted}")
