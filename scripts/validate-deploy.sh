#!/usr/bin/env bash
# Validates deploy/ offline, without a cluster:
#
#   1. yamllint -s (warnings fail too) on every YAML file under deploy/,
#      with deploy/.yamllint;
#   2. the Grafana dashboard JSON parses;
#   3. `kubectl kustomize` renders deploy/, deploy/overlays/real-sensors,
#      deploy/overlays/cpu-hpa and deploy/overlays/keda with no error and no
#      warning (e.g. deprecated fields); the keda overlay a second time from a
#      copy whose `namespace:` line names another namespace;
#   4. consistency checks (tests/deploy/check_deploy.py): selectors, ports,
#      probes, securityContext, no spec.replicas, HPA targets and behavior,
#      HPA metrics served by the adapter rules, rules.default false, rate
#      window >= 4 x scrape interval, release labels, bounded load Jobs, the
#      PodDisruptionBudget selects the app's pods (not the Jobs') and lets
#      one go at a time, app.kubernetes.io/version equals the image tag, the
#      tag is set once (base/kustomization.yaml), the adapter keeps external
#      metrics off; the keda overlay (tests/deploy/keda_checks.py): its
#      ScaledObject validated strictly against KEDA 2.20.2's CRD schema
#      (tests/deploy/keda/scaledobject-spec.json) and its Prometheus trigger
#      metadata against the keys KEDA's scaler reads (the fields checked are
#      printed), the base HPA gone, the same min/max, behavior and per-pod
#      targets, the adapter's Prometheus address, the namespace of every
#      object written into each query (also after editing it); and what the walkthroughs
#      docs/kubernetes*.md say (tests/deploy/docs_agree.py): Prometheus and
#      Grafana Service names follow kube-prometheus-stack's naming rule for
#      the release label, the adapter URL names that Service, no hard-coded
#      namespace in API paths, HPA thresholds target x 1.1, the minimum
#      Kubernetes version (the oldest validated below, which preStop sleep
#      needs), every deploy/base file listed;
#   5. kubernetes-validate --strict on every rendered built-in object and
#      every load Job, against Kubernetes 1.30 and the newest version the
#      installed kubernetes-validate ships. Any ERROR fails, and so does any
#      WARN ("Couldn't find schema": a kind or apiVersion Kubernetes does not
#      serve, like the seed's autoscaling/v2beta1). The Prometheus Operator's
#      custom resources (ServiceMonitor, PrometheusRule) have no schema there
#      and are skipped by kind, explicitly (KEDA's ScaledObject is checked
#      in step 4 instead);
#   6. the Helm chart deploy/helm/custom-metrics-app, with the helm that
#      scripts/install-helm.sh pins (v4.1.4): helm lint --strict for every
#      autoscaling.mode; the chart renders what kustomize does
#      (tests/deploy/chart_equivalence.py: base, cpu-hpa, real-sensors and
#      keda against their values, and a control that a changed value shows);
#      tests/deploy/chart_checks.py: Chart.yaml's version = the crate's, each
#      mode rendered at --kube-version 1.30.0 (1.29 refused) and checked, the
#      custom resources against their CRD schemas (KEDA, Prometheus
#      Operator), every bad-values case refused naming its field, the docs'
#      values tables against values.yaml, and (with the binary built:
#      target/debug/custom-metrics-app or CMA_BIN) the rendered container's
#      flags started and the helm test command run against them on
#      loopback; helm package; and the built-in
#      objects of every render through kubernetes-validate --strict as in 5;
#   7. promtool check rules (when promtool is installed) on the alerts, the
#      adapter queries as rendered for a Pods request, the KEDA queries and the dashboard's
#      expressions: every PromQL expression parses.
#
# Usage: scripts/validate-deploy.sh [DEPLOY_DIR]   (default: deploy)
# Needs: kubectl, helm, yamllint, python3 with PyYAML and jsonschema,
#   kubernetes-validate (pip install -r requirements-test.txt;
#   apt-get install -y yamllint; scripts/install-helm.sh for helm and, where
#   there is none, kubectl);
#   optional: promtool (apt-get install -y prometheus).
# Exit status: 0 when everything passed, 1 when a check failed, 2 when a
# tool is missing.
# No -e: every check runs and each failure is counted; the exit status
# comes at the end (1 when any failed, 2 when a tool is missing).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
deploy="${1:-deploy}"
deploy="${deploy%/}"
k8s_versions=(1.30.0)

work="$(mktemp -d "${TMPDIR:-/tmp}/validate-deploy.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failures=0
step() { printf '\n== %s\n' "$*"; }
pass() { printf '  ok    %s\n' "$*"; }
fail() {
    printf '  FAIL  %s\n' "$*"
    failures=$((failures + 1))
}

step "tools"
missing=0
for tool in kubectl helm yamllint python3 kubernetes-validate; do
    if command -v "$tool" >/dev/null 2>&1; then
        pass "$tool: $(command -v "$tool")"
    else
        fail "$tool not found"
        missing=1
    fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
    fail "python3 cannot import yaml (pip install pyyaml)"
    missing=1
fi
if [ "$missing" = 1 ]; then
    echo "validate-deploy: missing tools: pip install kubernetes-validate pyyaml; apt-get install -y yamllint (and kubectl); scripts/install-helm.sh"
    exit 2
fi
kv_version="$(kubernetes-validate --version 2>/dev/null)"
kv_latest="$(python3 -c 'import kubernetes_validate.utils as u; print(u.latest_version())' 2>/dev/null)"
if [ -z "$kv_latest" ]; then
    fail "cannot read the newest schema version of kubernetes-validate"
    exit 2
fi
k8s_versions+=("$kv_latest")
pass "kubernetes-validate $kv_version; schema versions: ${k8s_versions[*]}"

step "yamllint -s ($deploy/.yamllint)"
if [ ! -f "$deploy/.yamllint" ]; then
    fail "$deploy/.yamllint is missing"
else
    # A chart's templates are Go templates, not YAML: helm lint and the
    # rendered output are checked below instead.
    mapfile -t yaml_files < <(find "$deploy" -path "$deploy/helm/*/templates" -prune -o -type f \( -name '*.yaml' -o -name '*.yml' -o -name .yamllint \) -print | sort)
    if out="$(yamllint -s -f parsable -c "$deploy/.yamllint" "${yaml_files[@]}" 2>&1)"; then
        pass "${#yaml_files[@]} files clean"
    else
        printf '%s\n' "$out" | sed 's/^/        /'
        fail "yamllint"
    fi
fi

step "dashboards are JSON"
mapfile -t json_files < <(find "$deploy" -type f -name '*.json' | sort)
for f in "${json_files[@]}"; do
    if out="$(python3 -m json.tool "$f" 2>&1 >/dev/null)"; then
        pass "$f"
    else
        fail "$f: $out"
    fi
done

step "kubectl kustomize"
# The keda overlay's queries must follow its `namespace:` line: render a copy
# of deploy/ with that line changed, as a user would edit it.
keda_namespace=cma-validate-namespace
keda_copy="$work/deploy-copy"
cp -r "$deploy" "$keda_copy"
sed -i "s/^namespace: .*/namespace: $keda_namespace/" "$keda_copy/overlays/keda/kustomization.yaml"
declare -A renders=([base]="$deploy" [real-sensors]="$deploy/overlays/real-sensors" [cpu-hpa]="$deploy/overlays/cpu-hpa"
    [keda]="$deploy/overlays/keda" [keda-namespace]="$keda_copy/overlays/keda")
rendered_args=()
for name in base real-sensors cpu-hpa keda keda-namespace; do
    dir="${renders[$name]}"
    if kubectl kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err"; then
        if [ -s "$work/$name.err" ]; then
            sed 's/^/        /' "$work/$name.err"
            fail "kubectl kustomize $dir printed warnings"
        else
            count="$(grep -c '^kind:' "$work/$name.yaml")"
            pass "kubectl kustomize $dir: $count objects"
        fi
        rendered_args+=(--rendered "$name=$work/$name.yaml")
    else
        sed 's/^/        /' "$work/$name.err"
        fail "kubectl kustomize $dir"
    fi
done
# An image pinned by digest beside its tag: the version label must stay the
# tag (a label value holds no '@' and at most 63 characters).
digest_copy="$work/deploy-digest"
cp -r "$deploy" "$digest_copy"
sed -i 's/^    newTag: \(.*\)$/    newTag: \1\n    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/' \
    "$digest_copy/base/kustomization.yaml"
if out="$(kubectl kustomize "$digest_copy" 2>&1 | python3 -c '
import sys, yaml
dep = next(o for o in yaml.safe_load_all(sys.stdin) if o and o["kind"] == "Deployment")
image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
labels = [dep["metadata"]["labels"], dep["spec"]["template"]["metadata"]["labels"]]
tag = image.split("@")[0].rsplit(":", 1)[1]
ok = "@sha256:" in image and all(l["app.kubernetes.io/version"] == tag for l in labels)
print(image, "->", [l["app.kubernetes.io/version"] for l in labels])
sys.exit(0 if ok else 1)
')"; then
    pass "a digest beside the tag: $out"
else
    fail "a digest beside the tag: $out"
fi
mapfile -t job_files < <(find "$deploy/loadgen" -maxdepth 1 -type f -name '*.yaml' | sort)
if [ "${#job_files[@]}" -eq 0 ]; then
    fail "no load Jobs in $deploy/loadgen"
else
    pass "load Jobs: ${job_files[*]}"
fi

step "consistency (tests/deploy/check_deploy.py)"
mapfile -t walkthroughs < <(find docs -maxdepth 1 -name 'kubernetes*.md' | sort)
if python3 tests/deploy/check_deploy.py --out "$work" "${rendered_args[@]}" \
    --values "$deploy/prometheus-adapter-values.yaml" --jobs "${job_files[@]}" \
    --deploy "$deploy" --min-kubernetes "${k8s_versions[0]%.*}" --docs "${walkthroughs[@]}" \
    --keda-namespace "$keda_namespace"; then
    :
else
    fail "consistency checks"
fi

step "kubernetes-validate --strict (${k8s_versions[*]})"
mapfile -t objects < <(find "$work/objects" -type f -name '*.yaml' 2>/dev/null | sort)
if [ "${#objects[@]}" -eq 0 ]; then
    fail "no objects to validate"
else
    kv_args=()
    for v in "${k8s_versions[@]}"; do kv_args+=(-k "$v"); done
    out="$(cd "$work/objects" && kubernetes-validate --strict "${kv_args[@]}" "${objects[@]##*/}" 2>&1)"
    rc=$?
    printf '%s\n' "$out" | sed 's/^/        /'
    bad="$(printf '%s\n' "$out" | grep -Ec '^(WARN|ERROR|FATAL)' || true)"
    passed="$(printf '%s\n' "$out" | grep -c '^INFO .* passed' || true)"
    expected=$((${#objects[@]} * ${#k8s_versions[@]}))
    if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
        fail "kubernetes-validate: exit $rc, $bad WARN/ERROR line(s) (a missing schema for a built-in kind is a failure)"
    elif [ "$passed" -ne "$expected" ]; then
        fail "kubernetes-validate: $passed passes, expected $expected (${#objects[@]} objects x ${#k8s_versions[@]} versions)"
    else
        pass "${#objects[@]} objects x ${#k8s_versions[@]} versions: all passed"
    fi
fi

step "helm chart ($deploy/helm/custom-metrics-app)"
chart="$deploy/helm/custom-metrics-app"
helm_pinned="$(sed -n 's/^helm_version=//p' scripts/install-helm.sh)"
helm_got="$(helm version --template '{{.Version}}' 2>/dev/null)"
if [ "$helm_got" = "$helm_pinned" ]; then
    pass "helm $helm_got (pinned in scripts/install-helm.sh)"
else
    fail "helm is $helm_got, scripts/install-helm.sh pins $helm_pinned"
fi
for mode in adapter keda cpu none; do
    if out="$(helm lint --strict "$chart" --set autoscaling.mode=$mode 2>&1)"; then
        pass "helm lint --strict --set autoscaling.mode=$mode: $(printf '%s\n' "$out" | grep -c '^\[WARNING\]') warnings, $(printf '%s\n' "$out" | tail -1)"
    else
        printf '%s\n' "$out" | sed 's/^/        /'
        fail "helm lint --strict --set autoscaling.mode=$mode"
    fi
done
if python3 tests/deploy/chart_equivalence.py --deploy "$deploy" --chart "$chart"; then
    pass "the chart renders what kustomize does (tests/deploy/chart_equivalence.py)"
else
    fail "the chart and deploy/ differ (tests/deploy/chart_equivalence.py)"
fi
# The app's binary, when built (cargo build; CI has built it for the tests):
# the rendered container's flags and the helm test command are run with it.
binary_args=()
app_bin="${CMA_BIN:-target/debug/custom-metrics-app}"
if [ -x "$app_bin" ]; then
    binary_args=(--binary "$app_bin")
else
    echo "  skip  no $app_bin (cargo build, or CMA_BIN=...): the rendered flags and the helm test command are not run"
fi
if python3 tests/deploy/chart_checks.py --chart "$chart" --out "$work" --docs "${walkthroughs[@]}" "${binary_args[@]}"; then
    pass "chart checks (tests/deploy/chart_checks.py)"
else
    fail "chart checks (tests/deploy/chart_checks.py)"
fi
if out="$(helm package "$chart" -d "$work/package" 2>&1)" && pkg="$(ls "$work"/package/*.tgz 2>/dev/null)" \
    && helm template custom-metrics-app "$pkg" --skip-tests >"$work/from-package.yaml" 2>&1 \
    && helm template custom-metrics-app "$chart" --skip-tests | cmp -s - "$work/from-package.yaml"; then
    pass "helm package: ${pkg##*/}, which renders as the chart directory does"
else
    printf '%s\n' "$out" | sed 's/^/        /'
    fail "helm package $chart"
fi
mapfile -t chart_objects < <(find "$work/objects-chart" -type f -name '*.yaml' 2>/dev/null | sort)
if [ "${#chart_objects[@]}" -eq 0 ]; then
    fail "no chart objects to validate"
else
    out="$(cd "$work/objects-chart" && kubernetes-validate --strict "${kv_args[@]}" "${chart_objects[@]##*/}" 2>&1)"
    rc=$?
    bad="$(printf '%s\n' "$out" | grep -Ec '^(WARN|ERROR|FATAL)' || true)"
    passed="$(printf '%s\n' "$out" | grep -c '^INFO .* passed' || true)"
    expected=$((${#chart_objects[@]} * ${#k8s_versions[@]}))
    if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$passed" -ne "$expected" ]; then
        printf '%s\n' "$out" | grep -Ev '^INFO .* passed' | sed 's/^/        /'
        fail "kubernetes-validate --strict of the chart's renders: exit $rc, $bad WARN/ERROR, $passed of $expected passed"
    else
        pass "kubernetes-validate --strict: ${#chart_objects[@]} built-in objects of the chart's renders x ${#k8s_versions[@]} versions (${k8s_versions[*]}): all passed"
    fi
fi

step "promtool check rules"
if ! command -v promtool >/dev/null 2>&1; then
    echo "  skip  promtool not installed (apt-get install -y prometheus): PromQL syntax not checked"
elif [ ! -s "$work/promql-rules.yaml" ]; then
    fail "no PromQL rule file was written"
elif out="$(promtool check rules "$work/promql-rules.yaml" 2>&1)"; then
    printf '%s\n' "$out" | sed 's/^/        /'
    pass "alerts, adapter queries and dashboard expressions parse"
else
    printf '%s\n' "$out" | sed 's/^/        /'
    fail "promtool check rules"
fi

echo
if [ "$failures" -ne 0 ]; then
    echo "validate-deploy: FAILED ($failures problem(s)) in $deploy"
    exit 1
fi
echo "validate-deploy: OK: $deploy lints, renders, is consistent and validates against Kubernetes ${k8s_versions[*]}"
