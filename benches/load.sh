#!/usr/bin/env bash
# load.sh — wrk load cases against custom-metrics-app and any reference
# servers, one at a time, each server pinned to one core and wrk to another.
#
#   benches/load.sh [-d SECONDS] [-n REPS] [-c "CASES"] [-r 'NAME=CMD with {port}']...
#
# Cases (default: all): ka64 ka256 pipe16 close once metrics hold10k
#   ka64/ka256  keep-alive GET / with 64/256 connections
#   pipe16      16 pipelined GET / per write, 64 connections
#   close       a new TCP connection per request (wget-style), 32 at a time
#   once        a new TCP connection per keep-alive request that the client
#               closes after the response (curl or GNU wget in a loop), 32 at
#               a time, driven by `custom-metrics-app loadgen --connection once`
#               (wrk cannot close first)
#   metrics     keep-alive GET /metrics, 8 connections
#   hold10k     10,000 keep-alive connections under load: peak RSS
# Prints req/s, p99, server CPU microseconds per request and peak RSS (the
# median over REPS repetitions, servers alternating within each repetition so
# that a machine's slow spell hits all of them). Raw lines go to
# benches/results/load-<date>.txt, which benches/chart.py turns into a chart.
# Needs: wrk, taskset, curl (Debian: apt-get install wrk util-linux curl).
# Example reference: -r 'nginx=nginx -p /tmp/ng -c /tmp/ng/nginx.conf -g "daemon off;"'
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=10
REPS=1
CASES="ka64 ka256 pipe16 close once metrics hold10k"
declare -a REFS=()
while getopts "d:n:c:r:" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    n) REPS=$OPTARG ;;
    c) CASES=$OPTARG ;;
    r) REFS+=("$OPTARG") ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release --quiet
BIN=$PWD/target/release/custom-metrics-app
LUA=$PWD/benches/wrk/summary.lua
SERVER_CPU=(); CLIENT_CPU=()
if [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 1); CLIENT_CPU=(taskset -c 0); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

run_case() { # name pid port case
  local name=$1 pid=$2 url="http://127.0.0.1:$3" case=$4 args=() env=()
  case $case in
    ka64) args=(-t1 -c64 "$url/") ;;
    ka256) args=(-t1 -c256 "$url/") ;;
    pipe16) args=(-t1 -c64 "$url/"); env=(PIPELINE=16) ;;
    close) args=(-t1 -c32 -H "Connection: close" "$url/") ;;
    metrics) args=(-t1 -c8 "$url/metrics") ;;
    hold10k) args=(-t1 -c10000 --timeout 10s "$url/") ;;
  esac
  echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true
  local before; before=$(ticks "$pid")
  local line
  if [ "$case" = once ]; then
    line=$(once_load "$url/")
  else
    line=$(env "${env[@]}" "${CLIENT_CPU[@]}" wrk -d"${DURATION}s" -s "$LUA" "${args[@]}" 2>/dev/null | grep '^LOAD ' || echo "LOAD rps=0 requests=0")
  fi
  local after; after=$(ticks "$pid")
  local requests; requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  local cpu_us=NA
  if [ "${requests:-0}" -gt 0 ]; then
    cpu_us=$(python3 -c "print(round(($after - $before) / $(getconf CLK_TCK) * 1e6 / $requests, 2))")
  fi
  echo "$name $case ${line#LOAD } cpu_us_per_req=$cpu_us peak_rss_kb=$(hwm_kb "$pid")"
  sleep 1
}

# loadgen asked for more than the server can take; its JSON summary as a LOAD line.
once_load() { # url
  "${CLIENT_CPU[@]}" "$BIN" loadgen --url="$1" --rate=100000 --duration="${DURATION}s" --connection=once \
    --concurrency=32 --progress=0 --output=json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin); lat = r["latency_seconds"] or {"p50": 0, "p99": 0}
print("LOAD rps=%.0f requests=%d p50_ms=%.3f p99_ms=%.3f errors=%d" % (r["achieved_per_second"], r["completed"],
      lat["p50"] * 1e3, lat["p99"] * 1e3, r["errors"]))' || echo "LOAD rps=0 requests=0"
}

bench_server() { # name command-with-{port}
  local name=$1 cmd=$2 port; port=$(free_port)
  cmd=${cmd//\{port\}/$port}
  setsid "${SERVER_CPU[@]}" bash -c "exec $cmd" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  # nginx and friends fork workers: measure the busiest process of the group.
  local target; target=$(pgrep -g "$pid" | tail -n 1); target=${target:-$pid}
  echo "$name idle rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$target/status")"
  for c in $CASES; do run_case "$name" "$target" "$port" "$c"; done
  kill -- -"$pid" 2>/dev/null || kill "$pid"; wait "$pid" 2>/dev/null || true
}

mkdir -p benches/results
RAW=benches/results/load-$(date -u +%Y%m%dT%H%M%SZ).txt
for rep in $(seq "$REPS"); do
  bench_server custom-metrics-app "$BIN --listen 127.0.0.1:{port} --temperature-source simulated"
  for ref in "${REFS[@]}"; do bench_server "${ref%%=*}" "${ref#*=}"; done
done | tee "$RAW"

echo
python3 - "$RAW" <<'PY'
import statistics, sys
from collections import defaultdict
rows = defaultdict(lambda: defaultdict(list))
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 3 or "=" not in parts[2]:
        continue
    for k, v in (p.split("=", 1) for p in parts[2:] if "=" in p):
        try:
            rows[(parts[0], parts[1])][k].append(float(v))
        except ValueError:
            pass
def med(kv, key):
    return f"{statistics.median(kv[key]):g}" if kv.get(key) else "-"
print(f"{'server':<22}{'case':<9}{'req/s':>10}{'p99 ms':>9}{'CPU us/req':>12}{'peak RSS KiB':>14}   (medians)")
for (server, case), kv in rows.items():
    rss = med(kv, 'peak_rss_kb') if kv.get('peak_rss_kb') else med(kv, 'rss_kb')
    print(f"{server:<22}{case:<9}{med(kv, 'rps'):>10}{med(kv, 'p99_ms'):>9}{med(kv, 'cpu_us_per_req'):>12}{rss:>14}")
PY
echo "raw results: $RAW"

