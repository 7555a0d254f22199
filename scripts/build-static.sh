#!/usr/bin/env bash
# Builds custom-metrics-app as one statically linked release binary, exactly as
# the Dockerfile's builder stage does (the Dockerfile runs this very script),
# and prints the binary's path as the last line on stdout.
#
#   scripts/build-static.sh            # -> target/x86_64-unknown-linux-musl/release/custom-metrics-app
#   CARGO_TARGET_DIR=/tmp/t scripts/build-static.sh
#
# Target and flags (the same everywhere):
#   cargo build --release --locked --bin custom-metrics-app --target x86_64-unknown-linux-musl
#   RUSTFLAGS="-C target-feature=+crt-static"
#
# musl is the target because the image is `FROM scratch`: a musl binary has its
# own DNS resolver (it reads the /etc/resolv.conf that the kubelet mounts), so
# `loadgen --url http://custom-metrics-app:3000/` resolves Service names.
# rustup ships musl's libc and start files inside the target's rust-std, so
# no C toolchain is needed while every dependency is pure Rust; musl-tools
# (Debian: `apt-get install musl-tools`) adds musl-gcc for crates that compile
# C, and is used when present.
#
# Fallback: when the musl target is not installed and `rustup target add`
# cannot download it (an offline machine), the script builds a static glibc
# binary instead: `--target x86_64-unknown-linux-gnu` with the same RUSTFLAGS.
# That binary runs in an empty root and serves HTTP, but glibc's static
# getaddrinfo wants NSS modules at run time, so host names may not resolve:
# fine for tests on loopback addresses, not for the image. The Dockerfile sets
# CMA_REQUIRE_MUSL=1, which turns the fallback into an error.
#
# Environment:
#   CMA_REQUIRE_MUSL=1   fail instead of falling back to glibc
#   CMA_STATIC_TARGET=T  force a target triple (musl or gnu, x86_64 only)
#   CARGO_TARGET_DIR     where cargo builds (default: ./target)
#   CARGO_BUILD_JOBS     parallel jobs, as cargo reads it
set -euo pipefail

cd "$(dirname "$0")/.."

readonly MUSL=x86_64-unknown-linux-musl
readonly GNU=x86_64-unknown-linux-gnu
readonly BIN=custom-metrics-app
export RUSTFLAGS="-C target-feature=+crt-static"

log() { printf 'build-static: %s\n' "$*" >&2; }

have_target() {
    # rustup lists installed targets; without rustup, ask rustc for its sysroot.
    if command -v rustup >/dev/null 2>&1; then
        rustup target list --installed 2>/dev/null | grep -qx "$1"
    else
        [ -d "$(rustc --print sysroot)/lib/rustlib/$1/lib" ]
    fi
}

target="${CMA_STATIC_TARGET:-}"
if [ -z "$target" ]; then
    if have_target "$MUSL"; then
        target=$MUSL
    elif command -v rustup >/dev/null 2>&1 && rustup target add "$MUSL" >&2; then
        target=$MUSL
    elif [ "${CMA_REQUIRE_MUSL:-0}" = 1 ]; then
        log "error: the $MUSL target is not installed and rustup could not add it"
        exit 1
    else
        log "warning: the $MUSL target is not installed and rustup could not add it;"
        log "warning: falling back to a static glibc build ($GNU + crt-static)."
        log "warning: that binary may not resolve host names (NSS); the image needs musl."
        target=$GNU
    fi
fi
case "$target" in
    "$MUSL" | "$GNU") ;;
    *)
        log "error: unsupported target '$target' (use $MUSL or $GNU)"
        exit 2
        ;;
esac
if [ "$target" != "$MUSL" ] && [ "${CMA_REQUIRE_MUSL:-0}" = 1 ]; then
    log "error: CMA_REQUIRE_MUSL=1 but the target is $target"
    exit 1
fi

if [ "$target" = "$MUSL" ]; then
    if command -v musl-gcc >/dev/null 2>&1; then
        # Used by the cc crate, should a dependency ever compile C code.
        export CC_x86_64_unknown_linux_musl="${CC_x86_64_unknown_linux_musl:-musl-gcc}"
    else
        log "note: musl-gcc not found (apt-get install musl-tools); fine while all dependencies are pure Rust"
    fi
fi

log "cargo build --release --locked --bin $BIN --target $target (RUSTFLAGS='$RUSTFLAGS')"
cargo build --release --locked --bin "$BIN" --target "$target" >&2

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$PWD/$target_dir" ;;
esac
out="$target_dir/$target/release/$BIN"
if [ ! -x "$out" ]; then
    log "error: cargo finished but $out is missing"
    exit 1
fi

# A static executable has no program interpreter and no shared libraries.
if command -v readelf >/dev/null 2>&1; then
    if readelf --program-headers "$out" | grep -q 'INTERP'; then
        log "error: $out asks for a dynamic loader (PT_INTERP): not static"
        exit 1
    fi
    if readelf --dynamic "$out" | grep -q '(NEEDED)'; then
        log "error: $out needs shared libraries:"
        readelf --dynamic "$out" | grep '(NEEDED)' >&2
        exit 1
    fi
    log "static: no PT_INTERP, no NEEDED libraries"
else
    log "note: readelf not found, static linking not double-checked"
fi

printf '%s\n' "$out"
