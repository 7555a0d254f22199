#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz, libFuzzer without a sanitizer:
# a panic is the finding) one after the other.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]   RUNS inputs each (default 100000000)
#   FUZZ_SECONDS=8 scripts/fuzz.sh       a few seconds each instead (CI)
#   FUZZ_NICE=19 scripts/fuzz.sh         share the machine politely
#
# Long runs count inputs, not time: a stopped (SIGSTOP) or slowed fuzzer
# still runs all its inputs. Each target starts from the committed seeds
# (fuzz/seeds/T, from fuzz/seeds/generate.py) and keeps what it learns in
# fuzz/corpus/T (not committed); a crash leaves its input in
# fuzz/artifacts/T and fails the script. Needs `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
if [ -n "${FUZZ_SECONDS:-}" ]; then
  limit=(-max_total_time="$FUZZ_SECONDS")
  what="$FUZZ_SECONDS s"
else
  limit=(-runs="$runs")
  what="$runs inputs"
fi
cargo fuzz build -s none --fuzz-dir fuzz
bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
for t in "${targets[@]}"; do
  dict=fuzz/http.dict max_len=4096
  case "$t" in
    duration | url | cli_args) dict=fuzz/cli.dict ;;
    # A few pipelined requests fit in 1 KiB; longer session inputs only slow it.
    session) max_len=1024 ;;
  esac
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  echo "== fuzz $t: $what"
  start=$(date +%s)
  set +e
  nice -n "${FUZZ_NICE:-0}" "$bin/$t" "${limit[@]}" \
    -dict="$dict" -max_len="$max_len" -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
    "fuzz/corpus/$t" "fuzz/seeds/$t" 2>&1 |
    grep -E '^(Done|stat::number_of_executed_units)|panicked|ERROR|SUMMARY|Test unit written'
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "== fuzz $t FAILED (exit $status): see fuzz/artifacts/$t/" >&2
    exit 1
  fi
  echo "== fuzz $t: no crash, $(($(date +%s) - start)) s"
done
