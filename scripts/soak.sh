#!/usr/bin/env bash
# The long soak: mixed load for SOAK_SECONDS (default 600) against a release
# build, then exact accounting. CI runs the 3-second version in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-600} cargo test --release --test soak -- --nocapture
