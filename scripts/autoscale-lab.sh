#!/usr/bin/env bash
# The autoscaling lab: the HPA loop on one machine (docs/autoscaling-timing.md).
# Real: the app as pods, Prometheus with file-based discovery, the adapter
# rules' queries, loadgen. Modelled: the HPA controller.
#
#   scripts/autoscale-lab.sh                       # deploy/'s settings, the staged Job's profile
#   scripts/autoscale-lab.sh --scrape-interval 5s --window 30s --name tuned-scrape
#   scripts/autoscale-lab.sh --scale-down-window 60s --name tuned-down
#   scripts/autoscale-lab.sh --time-scale 0.1     # ten times faster (a lab override)
#
# Needs `prometheus` on PATH (Debian: apt-get install prometheus). Writes
# target/autoscale-lab/NAME.{json,csv,svg} (or --out DIR) and prints the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prometheus >/dev/null || { echo "autoscale-lab: prometheus is not installed (apt-get install prometheus)" >&2; exit 2; }
cargo build --release --locked --quiet --bin custom-metrics-app --example autoscale_lab
exec target/release/examples/autoscale_lab "$@"
