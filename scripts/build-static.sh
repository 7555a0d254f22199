#!/usr/bin/env bash
# Builds custom-metrics-app as one statically linked release binary, exactly as
# the Dockerfile's builder stage does (the Dockerfile runs this very script),
# and prints the binary's path as the last line on stdout.
#
#   scripts/build-static.sh                    # for this machine (uname -m)
#   TARGETARCH=arm64 scripts/build-static.sh   # -> target/aarch64-unknown-linux-musl/release/custom-metrics-app
#   TARGETARCH=arm TARGETVARIANT=v7 scripts/build-static.sh   # 32-bit ARM (Raspberry Pi OS armhf)
#   TARGETARCH=riscv64 scripts/build-static.sh
#   scripts/build-static.sh --print-target     # the target triple only, nothing built
#   CARGO_TARGET_DIR=/tmp/t scripts/build-static.sh
#
# Which target: CMA_STATIC_TARGET when set; else TARGETARCH (the platform
# the image is for, as `docker buildx` passes it: amd64, arm64, arm with
# TARGETVARIANT v7, riscv64); else the machine's `uname -m`:
#   amd64 / x86_64    -> x86_64-unknown-linux-musl
#   arm64 / aarch64   -> aarch64-unknown-linux-musl
#   arm (v7) / armv7l -> armv7-unknown-linux-musleabihf    (glibc: armv7-unknown-linux-gnueabihf)
#   riscv64           -> riscv64gc-unknown-linux-musl      (glibc: riscv64gc-unknown-linux-gnu)
# Only ARMv7 (hard float) among the 32-bit ARM variants: v6 (Pi 1, Zero) is not built.
# Flags (the same everywhere):
#   cargo build --release --locked --bin custom-metrics-app --target TRIPLE
#   RUSTFLAGS="-C target-feature=+crt-static"
#
# musl is the target because the image is `FROM scratch`: a musl binary has its
# own DNS resolver (it reads the /etc/resolv.conf that the kubelet mounts), so
# `loadgen --url http://custom-metrics-app:3000/` resolves Service names.
# rustup ships musl's libc and start files inside the target's rust-std, so
# no C toolchain is needed while every dependency is pure Rust; musl-tools
# (Debian: `apt-get install musl-tools`) adds musl-gcc for crates that compile
# C, and is used when present for a native x86_64 build.
#
# Cross-building (the target's CPU is not this machine's): rustc still needs
# a linker for the target. The script uses, unless
# CARGO_TARGET_<TRIPLE>_LINKER is already set, Debian's cross gcc:
#   aarch64 from x86_64:  aarch64-linux-gnu-gcc   (apt-get install gcc-aarch64-linux-gnu)
#   x86_64 from aarch64:  x86_64-linux-gnu-gcc    (apt-get install gcc-x86-64-linux-gnu)
#   armv7:                arm-linux-gnueabihf-gcc (gcc-arm-linux-gnueabihf; glibc: + libc6-dev-armhf-cross)
#   riscv64:              riscv64-linux-gnu-gcc   (gcc-riscv64-linux-gnu; glibc: + libc6-dev-riscv64-cross)
# Only as a linker driver: musl's libc and crt objects come from rust-std.
# The result runs under qemu-user (`qemu-aarch64`, `qemu-arm`, `qemu-riscv64`
# BINARY); .ci/run does that for all three.
#
# Fallback: when the musl target is not installed and `rustup target add`
# cannot download it (an offline machine), a native build falls back to a
# static glibc binary: `--target <arch>-unknown-linux-gnu` with the same
# RUSTFLAGS; a cross build falls back the same way when the musl target
# cannot be had (rustup serves no armv7/riscv64 musl on some mirrors) and the
# glibc one can, saying so. That binary runs in an empty root and serves HTTP, but glibc's
# static getaddrinfo wants NSS modules at run time, so host names may not
# resolve: fine for tests on loopback addresses, not for the image. The
# Dockerfile sets CMA_REQUIRE_MUSL=1, which turns the fallback into an error.
#
# Environment:
#   CMA_REQUIRE_MUSL=1   fail instead of falling back to glibc
#   CMA_STATIC_TARGET=T  force a target triple (x86_64/aarch64/armv7/riscv64gc, musl or gnu)
#   TARGETARCH=A         amd64, arm64, arm, riscv64 (set by docker buildx)
#   TARGETVARIANT=V      v7 with TARGETARCH=arm (set by docker buildx; empty is read as v7)
#   CARGO_TARGET_DIR     where cargo builds (default: ./target)
#   CARGO_BUILD_JOBS     parallel jobs, as cargo reads it
set -euo pipefail

cd "$(dirname "$0")/.."

readonly BIN=custom-metrics-app
export RUSTFLAGS="-C target-feature=+crt-static"

log() { printf 'build-static: %s\n' "$*" >&2; }

# Normalises Docker's and the kernel's names for a CPU to rustc's.
rust_arch() {
    case "$1" in
        amd64 | x86_64) echo x86_64 ;;
        arm64 | aarch64) echo aarch64 ;;
        arm | armv7l | armv7) echo armv7 ;;
        riscv64) echo riscv64gc ;;
        *) return 1 ;;
    esac
}

# The triples of an arch: musl, glibc; and the prefix of Debian's cross gcc.
musl_triple() { case "$1" in armv7) echo armv7-unknown-linux-musleabihf ;; *) echo "$1-unknown-linux-musl" ;; esac; }
gnu_triple() { case "$1" in armv7) echo armv7-unknown-linux-gnueabihf ;; *) echo "$1-unknown-linux-gnu" ;; esac; }
gcc_prefix() {
    case "$1" in
        armv7) echo arm-linux-gnueabihf ;;
        riscv64gc) echo riscv64-linux-gnu ;;
        *) echo "$1-linux-gnu" ;;
    esac
}

host_arch="$(rust_arch "$(uname -m)")" || {
    log "error: unsupported build machine $(uname -m) (x86_64, aarch64, armv7l and riscv64 are)"
    exit 2
}
if [ -n "${TARGETARCH:-}" ]; then
    arch="$(rust_arch "$TARGETARCH")" || {
        log "error: unsupported TARGETARCH '$TARGETARCH' (amd64, arm64, arm/v7 and riscv64 are)"
        exit 2
    }
    if [ "$arch" = armv7 ] && [ -n "${TARGETVARIANT:-}" ] && [ "$TARGETVARIANT" != v7 ]; then
        log "error: unsupported TARGETVARIANT '$TARGETVARIANT' for arm (only v7 is built)"
        exit 2
    fi
else
    arch=$host_arch
fi
MUSL="$(musl_triple "$arch")"
GNU="$(gnu_triple "$arch")"

have_target() {
    # rustup lists installed targets; without rustup, ask rustc for its sysroot.
    if command -v rustup >/dev/null 2>&1; then
        rustup target list --installed 2>/dev/null | grep -qx "$1"
    else
        [ -d "$(rustc --print sysroot)/lib/rustlib/$1/lib" ]
    fi
}

if [ "${1:-}" = --print-target ]; then
    printf '%s\n' "${CMA_STATIC_TARGET:-$MUSL}"
    exit 0
fi

target="${CMA_STATIC_TARGET:-}"
if [ -z "$target" ]; then
    if have_target "$MUSL"; then
        target=$MUSL
    elif command -v rustup >/dev/null 2>&1 && rustup target add "$MUSL" >&2; then
        target=$MUSL
    elif [ "${CMA_REQUIRE_MUSL:-0}" = 1 ]; then
        log "error: the $MUSL target is not installed and rustup could not add it"
        exit 1
    elif [ "$arch" != "$host_arch" ] && ! have_target "$GNU" && ! { command -v rustup >/dev/null 2>&1 && rustup target add "$GNU" >&2; }; then
        log "error: neither $MUSL nor $GNU is installed, and rustup could add neither"
        exit 1
    else
        log "warning: the $MUSL target is not installed and rustup could not add it;"
        log "warning: falling back to a static glibc build ($GNU + crt-static)."
        log "warning: that binary may not resolve host names (NSS); the image needs musl."
        target=$GNU
    fi
fi
case "$target" in
    x86_64-unknown-linux-musl | x86_64-unknown-linux-gnu | aarch64-unknown-linux-musl | aarch64-unknown-linux-gnu) ;;
    armv7-unknown-linux-musleabihf | armv7-unknown-linux-gnueabihf | riscv64gc-unknown-linux-musl | riscv64gc-unknown-linux-gnu) ;;
    *)
        log "error: unsupported target '$target' (x86_64, aarch64, armv7 or riscv64gc; musl or glibc)"
        exit 2
        ;;
esac
if [ "${target%%-*}" != "$arch" ] && [ -n "${TARGETARCH:-}" ]; then
    log "error: CMA_STATIC_TARGET=$target but TARGETARCH=$TARGETARCH"
    exit 2
fi
arch="${target%%-*}"
case "$target" in
    *-musl*) log "target $target: musl, static" ;;
    *) log "target $target: static glibc (the musl target is not available here)" ;;
esac
case "$target" in
    *-musl*) ;;
    *)
        if [ "${CMA_REQUIRE_MUSL:-0}" = 1 ]; then
            log "error: CMA_REQUIRE_MUSL=1 but the target is $target"
            exit 1
        fi
        ;;
esac

# Cargo reads the linker from CARGO_TARGET_<TRIPLE in upper case, - as _>_LINKER.
linker_var="CARGO_TARGET_$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')_LINKER"
if [ "$arch" != "$host_arch" ]; then
    cross_gcc="$(gcc_prefix "$arch")-gcc"
    if [ -n "${!linker_var:-}" ]; then
        log "cross-building $target on $host_arch with $linker_var=${!linker_var}"
    elif command -v "$cross_gcc" >/dev/null 2>&1; then
        export "$linker_var=$cross_gcc"
        log "cross-building $target on $host_arch: linker $cross_gcc"
    else
        log "error: cross-building $target on $host_arch needs a linker for $arch:"
        log "error: apt-get install gcc-$(gcc_prefix "$arch" | tr _ -) (or set $linker_var)"
        exit 1
    fi
elif [ "$target" = x86_64-unknown-linux-musl ]; then
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
