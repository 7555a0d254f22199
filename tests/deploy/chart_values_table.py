"""The values table of docs/kubernetes*.md, from the chart's values.yaml.

    python3 tests/deploy/chart_values_table.py [VALUES_YAML]

prints the Markdown table (key, default, description from the `# --`
comment above the key) that docs/kubernetes.md holds between
`<!-- values-table -->` and `<!-- /values-table -->`. chart_checks.py
checks that every doc's table (descriptions translated or not) lists
exactly these keys with these defaults.

A row per scalar or list value, and per map that is passed to Kubernetes
whole (resources, probes, security contexts, behavior, ...), whose default
is only named, not printed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

DEFAULT_VALUES = Path(__file__).resolve().parents[2] / "deploy/helm/custom-metrics-app/values.yaml"

# Maps given to Kubernetes (or KEDA) as they are: one row each.
WHOLE = {
    "strategy", "podSecurityContext", "securityContext", "resources", "startupProbe", "livenessProbe",
    "readinessProbe", "autoscaling.behavior", "autoscaling.keda.fallback",
}
# Label maps: one row each, the default printed.
LABEL_MAPS = {"serviceMonitor.additionalLabels", "prometheusRule.additionalLabels", "dashboard.labels"}
WHOLE_DEFAULT = "[values.yaml](../deploy/helm/custom-metrics-app/values.yaml)"
BEGIN, END = "<!-- values-table -->", "<!-- /values-table -->"


def comments(path: Path) -> dict[str, str]:
    """key path -> the `# --` comment (and its continuation lines) just above it."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending:
                pending.append(stripped[1:].strip())
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_]+):", line)
        if not m:
            if not stripped.startswith("- "):
                pending = []
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        key = ".".join(k for _, k in stack)
        if pending:
            out[key] = " ".join(pending)
        pending = []
    return out


def default_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def rows(values: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(key, default) for every row, in values.yaml's order."""
    out = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in WHOLE and path not in LABEL_MAPS:
            out += rows(value, path + ".")
        elif path in WHOLE:
            out.append((path, WHOLE_DEFAULT))
        else:
            out.append((path, f"`{default_text(value)}`"))
    return out


def table(values_path: Path) -> str:
    values = yaml.safe_load(values_path.read_text(encoding="utf-8"))
    notes = comments(values_path)
    lines = ["| Value | Default | What it does |", "| --- | --- | --- |"]
    for key, default in rows(values):
        note = notes.get(key, "").replace("|", "\\|")
        lines.append(f"| `{key}` | {default} | {note} |")
    return "\n".join(lines)


def doc_rows(text: str) -> list[tuple[str, str]] | None:
    """(key, default) of the table between the markers of a doc; None without markers."""
    if BEGIN not in text or END not in text:
        return None
    section = text.split(BEGIN, 1)[1].split(END, 1)[0]
    out = []
    for line in section.splitlines():
        m = re.match(r"^\| `([A-Za-z0-9_.]+)` \| (.*?) \| ", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


if __name__ == "__main__":
    print(table(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VALUES))
