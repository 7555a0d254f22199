#!/usr/bin/env bash
# syscalls.sh — system calls per request, counted with `strace -c -f` on the
# server while wrk sends a known number of requests, for keep-alive,
# pipelined and connection-per-request load.
#
#   benches/syscalls.sh [-d SECONDS] [-r 'NAME=CMD with {port}']...
#
# strace slows the server down, so the req/s here mean nothing; the counts
# per request are what to compare. Needs: strace, wrk, taskset, curl.
# A reference must listen on {port}; for nginx, template its config, e.g.
#   -r 'nginx=sh -c "sed s/LISTEN_PORT/{port}/ nginx.conf > /tmp/n.conf; exec nginx -c /tmp/n.conf -g \"daemon off;\""'
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=3
declare -a REFS=()
while getopts "d:r:" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    r) REFS+=("$OPTARG") ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
for tool in strace wrk curl; do
  command -v $tool >/dev/null || { echo "syscalls.sh: $tool is not installed" >&2; exit 2; }
done
cargo build --release --quiet
LUA=$PWD/benches/wrk/summary.lua
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

count() { # name pid port case
  local name=$1 pid=$2 port=$3 case=$4 args=() env=()
  case $case in
    keep-alive) args=(-c64) ;;
    pipelined) args=(-c64); env=(PIPELINE=16) ;;
    close) args=(-c32 -H "Connection: close") ;;
  esac
  strace -c -f -p "$pid" -o "$WORK/strace.txt" 2>"$WORK/strace.log" &
  local tracer=$!
  sleep 0.5
  local line
  line=$(env "${env[@]}" taskset -c 0 wrk -t1 -d"${DURATION}s" -s "$LUA" "${args[@]}" "http://127.0.0.1:$port/" | grep '^LOAD ' || true)
  sleep 0.3
  kill -TERM "$tracer"; wait "$tracer" 2>/dev/null || true
  local requests; requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  if [ "${requests:-0}" -eq 0 ]; then echo "$name $case: no requests completed (is the server listening?)"; return; fi
  awk -v name="$name" -v c="$case" -v r="$requests" '
    $1 ~ /^[0-9.]+$/ && $NF != "total" { calls = ($4 ~ /^[0-9]+$/) ? $4 : $3; errs = ($5 ~ /^[0-9]+$/) ? $5 : 0;
      total += calls; detail = detail sprintf(" %s=%.3f", $NF, calls / r); if (errs > 0) detail = detail sprintf("(%d err)", errs) }
    END { printf "%-20s %-11s requests=%-8d syscalls/req=%.3f %s\n", name, c, r, total / r, detail }' "$WORK/strace.txt"
}

measure() { # name command-with-{port}
  local name=$1 cmd=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cmd=${cmd//\{port\}/$port}
  setsid taskset -c 1 bash -c "exec $cmd" >/dev/null 2>&1 &
  local pid=$!
  local up=0
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && { up=1; break; }; sleep 0.1; done
  [ $up = 1 ] || { echo "$name did not answer on port $port" >&2; kill -- -"$pid" 2>/dev/null; return; }
  local target; target=$(pgrep -g "$pid" | tail -n 1); target=${target:-$pid}
  for c in keep-alive pipelined close; do count "$name" "$target" "$port" "$c"; sleep 1; done
  kill -- -"$pid" 2>/dev/null || kill "$pid"; wait "$pid" 2>/dev/null || true
}

measure custom-metrics-app "$PWD/target/release/custom-metrics-app --listen 127.0.0.1:{port} --workers 1 --temperature-source simulated"
for ref in "${REFS[@]}"; do measure "${ref%%=*}" "${ref#*=}"; done
