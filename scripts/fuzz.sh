#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz, libFuzzer without a sanitizer:
# a panic is the finding) for RUNS inputs each, one after the other.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]     RUNS defaults to 100000000
#   FUZZ_NICE=19 scripts/fuzz.sh 1000000   share the machine politely
#
# Counts, not time limits: a stopped (SIGSTOP) or slowed fuzzer still runs
# its inputs. Each target starts from the committed seeds (fuzz/seeds/T)
# and keeps what it learns in fuzz/corpus/T (not committed); a crash leaves
# its input in fuzz/artifacts/T and fails the script. Needs
# `cargo install cargo-fuzz --locked`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
nice_level="${FUZZ_NICE:-0}"
cargo fuzz build -s none --fuzz-dir fuzz
for t in "${targets[@]}"; do
  dict=fuzz/http.dict
  case "$t" in duration | url | cli_args) dict=fuzz/cli.dict ;; esac
  mkdir -p "fuzz/corpus/$t"
  echo "== $t: $runs inputs"
  start=$(date +%s)
  nice -n "$nice_level" cargo fuzz run -s none --fuzz-dir fuzz "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -runs="$runs" -dict="$dict" -max_len=4096 -print_final_stats=1
  echo "== $t: $runs inputs, no crash, $(($(date +%s) - start)) s"
done
