"""The names kube-prometheus-stack gives its Services, from the Helm release
name, as its templates compute them (charts/kube-prometheus-stack,
templates/_helpers.tpl `kube-prometheus-stack.fullname`, and the Grafana
subchart's `grafana.fullname`), so that the docs and the adapter values can be
checked against the release label in deploy/base.

fullname: the release name when it already contains the chart name
("kube-prometheus-stack"), else "<release>-kube-prometheus-stack"; cut to 26
characters, a trailing "-" dropped. Prometheus' Service is
"<fullname>-prometheus". Grafana's is "<release>-grafana" (cut to 63), or the
release name when it contains "grafana".

    >>> prometheus_service("kube-prometheus-stack")
    'kube-prometheus-stack-prometheus'
    >>> prometheus_service("mon")
    'mon-kube-prometheus-stack-prometheus'
    >>> prometheus_service("monitoring")
    'monitoring-kube-prometheus-prometheus'
    >>> grafana_service("monitoring")
    'monitoring-grafana'

    python3 -m doctest tests/deploy/chart_names.py
"""

from __future__ import annotations

CHART = "kube-prometheus-stack"


def _trunc(text: str, width: int) -> str:
    """Helm's `trunc N | trimSuffix "-"`."""
    text = text[:width]
    return text[:-1] if text.endswith("-") else text


def fullname(release: str) -> str:
    if CHART in release:
        return _trunc(release, 26)
    return _trunc(f"{release}-{CHART}", 26)


def prometheus_service(release: str) -> str:
    return f"{fullname(release)}-prometheus"


def grafana_service(release: str) -> str:
    if "grafana" in release:
        return _trunc(release, 63)
    return _trunc(f"{release}-grafana", 63)


if __name__ == "__main__":
    import doctest
    import sys

    sys.exit(doctest.testmod().failed)
