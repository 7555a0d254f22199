"""prometheus-adapter's custom rules, as deploy/prometheus-adapter-values.yaml
sets them, rendered the way the adapter renders them for a Pods request.

For `GET /apis/custom.metrics.k8s.io/v1beta1/namespaces/NS/pods/*/METRIC` the
adapter (pkg/naming/metrics_query.go, `Build`) executes the rule's
`metricsQuery` as a Go template with delimiters `<<` and `>>` and

  <<.Series>>         the Prometheus series name the rule discovered
  <<.LabelMatchers>>  namespace="NS",pod=~"a|b|c"   (pod="a" for a single pod)
  <<.GroupBy>>        pod

where `namespace` and `pod` are the series labels that `resources.overrides`
maps to the namespace and pod resources. The custom metric's name comes from
`name.matches` / `name.as` (pkg/naming/metric_namer.go): the series name must
match the regular expression, and `as` is expanded with its groups ($1, ${1},
$name); `as` defaults to $1 when the expression has one group, else $0.

    >>> from adapter_rules import render_rules
    >>> for name, series_query, promql in render_rules():
    ...     print(name, promql)

Run as a script to print every rule:

    python3 tests/deploy/adapter_rules.py [--values FILE] [--namespace NS] [--pods a,b,c]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VALUES = REPO / "deploy" / "prometheus-adapter-values.yaml"

# The five fields of the adapter's queryTemplateArgs; only the three string
# fields below can be rendered without a real request.
_FIELD = re.compile(r"<<-?\s*\.(\w+)\s*-?>>")
_RENDERABLE = {"Series", "LabelMatchers", "GroupBy"}
_METRIC_NAME = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")
_NAME_EQ = re.compile(r"""__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)\"""")


class RenderedRule(NamedTuple):
    """One custom rule: the metric the HPA asks for, how the adapter finds
    the series, and the PromQL it sends to Prometheus."""

    metric: str
    series_query: str
    promql: str


class RuleError(ValueError):
    """A rule the adapter would reject or that cannot be rendered here."""


def load_values(path: Path | str = DEFAULT_VALUES) -> dict:
    """The Helm values file, parsed."""
    with open(path, encoding="utf-8") as f:
        values = yaml.safe_load(f)
    if not isinstance(values, dict):
        raise RuleError(f"{path}: not a YAML mapping")
    return values


def custom_rules(values: dict) -> list[dict]:
    """`rules.custom` of the chart's values."""
    rules = (values.get("rules") or {}).get("custom") or []
    if not isinstance(rules, list):
        raise RuleError("rules.custom is not a list")
    return rules


def go_quote(value: str) -> str:
    """Go's %q for the strings that occur here (label values)."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def resource_label(rule: dict, resource: str) -> str:
    """The series label `resources.overrides` maps to `resource` (e.g. pod)."""
    resources = rule.get("resources") or {}
    overrides = resources.get("overrides") or {}
    for label, target in overrides.items():
        if isinstance(target, dict) and target.get("resource") in (resource, resource + "s"):
            return label
    if str(resources.get("template", "")).replace(" ", "") == "<<.Resource>>":
        # The label is named after the (singular) resource.
        return resource
    raise RuleError(f"rule {rule.get('seriesQuery')!r} maps no series label to the {resource} resource")


def label_matchers(rule: dict, namespace: str, pods: Sequence[str]) -> str:
    """The adapter's <<.LabelMatchers>> for a Pods request."""
    if not pods:
        raise RuleError("a Pods request names at least one pod")
    exprs = []
    if namespace:
        exprs.append(resource_label(rule, "namespace") + "=" + go_quote(namespace))
    op = "=~" if len(pods) > 1 else "="
    exprs.append(resource_label(rule, "pod") + op + go_quote("|".join(pods)))
    return ",".join(exprs)


def render_metrics_query(rule: dict, series: str, namespace: str, pods: Sequence[str]) -> str:
    """The PromQL the adapter sends for `rule` when asked about `pods`."""
    template = rule.get("metricsQuery")
    if not isinstance(template, str) or not template.strip():
        raise RuleError(f"rule {rule.get('seriesQuery')!r} has no metricsQuery")
    args = {
        "Series": series,
        "LabelMatchers": label_matchers(rule, namespace, pods),
        "GroupBy": resource_label(rule, "pod"),
    }

    def field(m: re.Match) -> str:
        name = m.group(1)
        if name not in _RENDERABLE:
            raise RuleError(f"metricsQuery uses <<.{name}>>, which this renderer does not support")
        return args[name]

    rendered = _FIELD.sub(field, template)
    if "<<" in rendered or ">>" in rendered:
        raise RuleError(f"metricsQuery has template actions this renderer does not support: {template!r}")
    return rendered


def series_name(series_query: str) -> str:
    """The one series name a seriesQuery selects (`name{...}` or
    `{__name__="name",...}`); a regular expression over names needs the
    series list from Prometheus instead."""
    m = _METRIC_NAME.match(series_query)
    if m:
        return m.group(1)
    m = _NAME_EQ.search(series_query)
    if m:
        return m.group(1)
    raise RuleError(f"cannot tell the series name of {series_query!r}; pass it explicitly")


def _expand(template: str, m: re.Match) -> str:
    """Go's Regexp.ExpandString: $1, ${1}, $name, ${name}, $$; an unknown
    group expands to nothing."""

    def group(token: re.Match) -> str:
        if token.group(0) == "$$":
            return "$"
        ref = token.group(1) or token.group(2)
        try:
            return m.group(int(ref) if ref.isdigit() else ref) or ""
        except IndexError:
            return ""

    return re.sub(r"\$\$|\$\{(\w+)\}|\$(\w+)", group, template)


def metric_name(rule: dict, series: str) -> str:
    """The custom metric name the adapter serves `series` under."""
    name = rule.get("name") or {}
    pattern = name.get("matches") or ".*"
    regex = re.compile(pattern)
    m = regex.search(series)
    if m is None:
        raise RuleError(f"series {series!r} does not match name.matches {pattern!r}")
    as_ = name.get("as") or ("$1" if regex.groups == 1 else "$0")
    return _expand(as_, m)


def render_rules(
    values_path: Path | str = DEFAULT_VALUES,
    namespace: str = "default",
    pods: Iterable[str] = ("a", "b", "c"),
    series: dict[str, str] | None = None,
) -> list[RenderedRule]:
    """Every custom rule of the values file as (custom metric name,
    seriesQuery, rendered PromQL) for a Pods request about `pods` in
    `namespace`. `series` maps a seriesQuery to the series name to use where
    it cannot be read from the query itself."""
    pods = list(pods)
    out = []
    for rule in custom_rules(load_values(values_path)):
        query = rule.get("seriesQuery")
        if not isinstance(query, str) or not query.strip():
            raise RuleError(f"a rule has no seriesQuery: {rule!r}")
        name = (series or {}).get(query) or series_name(query)
        out.append(RenderedRule(metric_name(rule, name), query, render_metrics_query(rule, name, namespace, pods)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", default=str(DEFAULT_VALUES), help="Helm values file (default: %(default)s)")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--pods", default="a,b,c", help="comma-separated pod names (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        values = load_values(args.values)
        rules = render_rules(args.values, args.namespace, [p for p in args.pods.split(",") if p])
    except (OSError, yaml.YAMLError, RuleError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    default = (values.get("rules") or {}).get("default")
    print(f"# {args.values}: rules.default={default!r}, {len(rules)} custom rule(s)")
    for rule in rules:
        print(f"metric:      {rule.metric}")
        print(f"seriesQuery: {rule.series_query}")
        print(f"promql:      {rule.promql}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
