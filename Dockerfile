# syntax=docker/dockerfile:1
#
# custom-metrics-app image: one static binary in an empty (`scratch`) image.
#
#   docker build -t custom-metrics-app:dev .
#   docker run --rm -p 3000:3000 custom-metrics-app:dev
#   docker run --rm custom-metrics-app:dev loadgen --url http://HOST:3000/ --rate 100 --duration 30s
#
# The builder stage runs scripts/build-static.sh, the script a developer runs
# without Docker, so both produce the same binary: target
# x86_64-unknown-linux-musl, `--release --locked`, RUSTFLAGS
# "-C target-feature=+crt-static". CMA_REQUIRE_MUSL=1 forbids the script's
# glibc fallback here: only musl's resolver works without NSS files in scratch.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS builder
# musl-tools brings musl-gcc for crates that compile C; binutils brings the
# readelf the script uses to prove the binary is static.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools binutils \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    bin="$(CMA_REQUIRE_MUSL=1 scripts/build-static.sh)" \
    && install -D -m 0755 "$bin" /out/custom-metrics-app \
    && /out/custom-metrics-app --version

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
