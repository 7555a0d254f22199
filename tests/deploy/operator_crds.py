"""ServiceMonitor and PrometheusRule against the Prometheus Operator's CRD
schemas (prometheus-operator/*-spec.json: kube-prometheus-stack 88.5.3,
operator 0.93.1, descriptions dropped), made strict as the API server
would with `kubectl apply --validate=strict`: a field the schema does not
name is an error, as are wrong types, enums and patterns (a `for: 1 minute`
or an `interval: 10` is refused). Offline, nothing else of the operator is
checked (whether a Prometheus selects them: chart_checks and check_deploy
look at the release label).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from keda_checks import strict

HERE = Path(__file__).resolve().parent / "prometheus-operator"
KINDS = {"ServiceMonitor": "servicemonitor-spec.json", "PrometheusRule": "prometheusrule-spec.json"}
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}


def schema_errors(obj: dict) -> list[str]:
    """Every way `obj` departs from its kind's CRD schema; [] when it fits."""
    kind = obj.get("kind")
    if kind not in KINDS:
        return [f"kind {kind!r}: no schema here (only {sorted(KINDS)})"]
    doc = json.loads((HERE / KINDS[kind]).read_text(encoding="utf-8"))
    errors = []
    if obj.get("apiVersion") != doc["apiVersion"]:
        errors.append(f"apiVersion {obj.get('apiVersion')}, expected {doc['apiVersion']}")
    errors += [f"{k}: not a {kind} field" for k in sorted(set(obj) - {"apiVersion", "kind", "metadata", "spec"})]
    errors += [f"{k}: required" for k in doc["required"] if k not in obj]
    meta = obj.get("metadata", {})
    errors += [f"metadata.{k}: not checked here" for k in sorted(set(meta) - METADATA_FIELDS)]
    for group in ("labels", "annotations"):
        errors += [
            f"metadata.{group}.{k}: {v!r} is not a string"
            for k, v in (meta.get(group) or {}).items()
            if not isinstance(v, str)
        ]
    validator = jsonschema.Draft7Validator(strict(doc["spec"]))
    for e in sorted(validator.iter_errors(obj.get("spec", {})), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        errors.append(f"spec{path}: {e.message}")
    return errors


def broken_variants(obj: dict) -> dict[str, dict]:
    """Copies of a valid object with one mistake each, which schema_errors
    must report (so that a pass means something)."""
    out: dict[str, dict] = {}
    if obj["kind"] == "ServiceMonitor":
        a = json.loads(json.dumps(obj))
        a["spec"]["endpoints"][0]["intervall"] = a["spec"]["endpoints"][0].pop("interval")
        out["endpoint field misspelt (intervall)"] = a
        b = json.loads(json.dumps(obj))
        b["spec"]["endpoints"][0]["interval"] = "10"
        out["interval without a unit"] = b
        c = json.loads(json.dumps(obj))
        c["spec"]["endpoints"][0]["scheme"] = "tcp"
        out["scheme tcp"] = c
    if obj["kind"] == "PrometheusRule":
        a = json.loads(json.dumps(obj))
        a["spec"]["groups"][0]["rules"][0]["for"] = "1 minute"
        out["for: 1 minute"] = a
        b = json.loads(json.dumps(obj))
        b["spec"]["groups"][0]["rule"] = b["spec"]["groups"][0].pop("rules")
        out["group field misspelt (rule)"] = b
    return out
