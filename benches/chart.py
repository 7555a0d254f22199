#!/usr/bin/env python3
"""Draws the benchmark chart (SVG) from raw load.sh output: no hand-typed numbers.

    python3 benches/chart.py benches/results/<run>.txt docs/benchmarks.svg

Input lines: `SERVER CASE rps=.. requests=.. p99_ms=.. cpu_us_per_req=.. peak_rss_kb=..`
(as benches/load.sh prints them). Repeated runs of a (server, case) are reduced
to their median. Two panels: server CPU microseconds per request (lower is
better) and requests per second, one group of bars per case.
"""
import statistics
import sys
from collections import defaultdict

COLORS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#c53030", "#718096"]


def load(path):
    values = defaultdict(lambda: defaultdict(list))
    for line in open(path):
        parts = line.split()
        if len(parts) < 3 or "=" not in parts[2] or parts[1] == "idle":
            continue
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        for key in ("rps", "cpu_us_per_req", "peak_rss_kb", "p99_ms"):
            try:
                values[(parts[0], parts[1])][key].append(float(kv[key]))
            except (KeyError, ValueError):
                pass
    return {k: {m: statistics.median(v) for m, v in d.items()} for k, d in values.items()}


def panel(out, data, servers, cases, metric, title, x0, y0, width, height):
    # Each case is scaled to its own largest bar: the cases differ by orders of
    # magnitude (pipelining), and the comparison that matters is within a case.
    out.append(f'<text x="{x0}" y="{y0 - 10}" font-size="14" font-weight="bold">{title}</text>')
    out.append(f'<line x1="{x0}" y1="{y0 + height}" x2="{x0 + width}" y2="{y0 + height}" stroke="#333"/>')
    group = width / max(len(cases), 1)
    bar = group * 0.8 / max(len(servers), 1)
    for ci, case in enumerate(cases):
        gx = x0 + ci * group + group * 0.1
        out.append(f'<text x="{gx + group * 0.4:.1f}" y="{y0 + height + 16}" font-size="12" text-anchor="middle">{case}</text>')
        peak = max((data.get((s, case), {}).get(metric, 0) for s in servers), default=1) or 1
        for si, server in enumerate(servers):
            v = data.get((server, case), {}).get(metric)
            if v is None:
                continue
            h = height * 0.88 * v / peak
            x = gx + si * bar
            out.append(f'<rect x="{x:.1f}" y="{y0 + height - h:.1f}" width="{bar * 0.9:.1f}" height="{h:.1f}" fill="{COLORS[si % len(COLORS)]}"/>')
            label = f"{v:.0f}" if v >= 100 else f"{v:.2f}"
            out.append(f'<text x="{x + bar * 0.45:.1f}" y="{y0 + height - h - 3:.1f}" font-size="9" text-anchor="middle">{label}</text>')


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = load(src)
    servers = list(dict.fromkeys(s for s, _ in data))
    cases = [c for c in dict.fromkeys(c for _, c in data) if c != "hold10k"]
    width, height = 900, 640
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    panel(out, data, servers, cases, "cpu_us_per_req",
          "Server CPU microseconds per request (lower is better; each case scaled to its largest)", 60, 50, width - 120, 220)
    panel(out, data, servers, cases, "rps", "Requests per second (higher is better; each case scaled to its largest)",
          60, 350, width - 120, 220)
    for si, server in enumerate(servers):
        x = 60 + si * 200
        out.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{COLORS[si % len(COLORS)]}"/>')
        out.append(f'<text x="{x + 18}" y="{height - 12}" font-size="12">{server}</text>')
    out.append(f'<text x="{width - 10}" y="{height - 4}" font-size="9" text-anchor="end" fill="#666">from {src}</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
