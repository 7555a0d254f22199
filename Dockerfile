# syntax=docker/dockerfile:1
#
# custom-metrics-app image: one static binary in an empty (`scratch`) image.
#
#   docker build -t custom-metrics-app:dev .
#   docker run --rm -p 3000:3000 custom-metrics-app:dev
#   docker run --rm custom-metrics-app:dev loadgen --url http://HOST:3000/ --rate 100 --duration 30s
#
#   # every CPU at once (Docker's containerd image store or a registry; a
#   # multi-platform image cannot be kept in the classic image store):
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7,linux/riscv64 -t REGISTRY/custom-metrics-app:TAG --push .
#   # one CPU, loaded into the local image store (Apple silicon: arm64):
#   docker buildx build --platform linux/arm64 -t custom-metrics-app:dev --load .
#
# The builder stage runs scripts/build-static.sh, the script a developer runs
# without Docker, so both produce the same binary: target
# <arch>-unknown-linux-musl, `--release --locked`, RUSTFLAGS
# "-C target-feature=+crt-static". CMA_REQUIRE_MUSL=1 forbids the script's
# glibc fallback here: only musl's resolver works without NSS files in scratch.
#
# The builder runs on the machine's own CPU (--platform=$BUILDPLATFORM) and
# cross-compiles for the image's (TARGETARCH, TARGETVARIANT): rustc under
# emulation would take many times longer. The script picks the musl target
# from them (x86_64-unknown-linux-musl, aarch64-unknown-linux-musl,
# armv7-unknown-linux-musleabihf, riscv64gc-unknown-linux-musl) and, when it
# differs from the builder's CPU, Debian's cross gcc as linker
# (gcc-aarch64-linux-gnu, gcc-x86-64-linux-gnu, gcc-arm-linux-gnueabihf,
# gcc-riscv64-linux-gnu). Of 32-bit ARM only v7 (hard float) is built.
#
# Not run on the machines this project is developed on (they have no Docker
# engine): CI builds the same binary with the same script for all four CPUs
# and runs the arm64, armv7 and riscv64 ones under qemu (.ci/run); rustup on
# those machines serves no armv7/riscv64 musl target, so there CI builds
# them as static glibc binaries (the script's fallback, refused here).

ARG RUST_VERSION=1.95

FROM --platform=$BUILDPLATFORM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS builder
ARG TARGETARCH
ARG TARGETVARIANT
ARG BUILDARCH
# musl-tools brings musl-gcc for crates that compile C; binutils brings the
# readelf the script uses to prove the binary is static; the cross gcc is
# only the linker, and only when the image's CPU is not the builder's.
COPY scripts/build-static.sh /tmp/build-static.sh
RUN cross="" \
    && if [ "$TARGETARCH" != "$BUILDARCH" ]; then \
        case "$TARGETARCH" in \
            arm64) cross=gcc-aarch64-linux-gnu ;; \
            amd64) cross=gcc-x86-64-linux-gnu ;; \
            arm) cross=gcc-arm-linux-gnueabihf ;; \
            riscv64) cross=gcc-riscv64-linux-gnu ;; \
            *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
        esac; \
    fi \
    && apt-get update \
    && apt-get install -y --no-install-recommends musl-tools binutils $cross \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add "$(TARGETARCH=$TARGETARCH TARGETVARIANT=$TARGETVARIANT /tmp/build-static.sh --print-target)"
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    bin="$(CMA_REQUIRE_MUSL=1 TARGETARCH=$TARGETARCH TARGETVARIANT=$TARGETVARIANT scripts/build-static.sh)" \
    && install -D -m 0755 "$bin" /out/custom-metrics-app \
    && if [ "$TARGETARCH" = "$BUILDARCH" ]; then /out/custom-metrics-app --version; fi

# Nothing but the binary: no shell, no libc, no package manager. The kubelet
# mounts /etc/hosts and /etc/resolv.conf, which is all the resolver reads.
FROM scratch
COPY --from=builder /out/custom-metrics-app /custom-metrics-app
# Numeric user and group (the "nonroot" ids of distroless), so that
# `runAsNonRoot: true` can be verified without an /etc/passwd.
USER 65532:65532
EXPOSE 3000
ENV CMA_LISTEN=0.0.0.0:3000
ENTRYPOINT ["/custom-metrics-app"]
