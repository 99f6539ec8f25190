#!/usr/bin/env bash
# The Helm chart's offline checks, and the Containerfile's lint: `npm run check:chart` (part of `npm test`).
#   helm lint --strict with the default values and every ci/ and examples/ values file;
#   helm template of each, validated by kubeconform -strict against Kubernetes' JSON schemas (kubernetes-validate)
#   and the CRDs' (Gateway API, ServiceMonitor);
#   the chart's unit tests (helm-unittest, charts/converge/tests);
#   and each check once more on a values file broken on purpose (charts/test/broken), where it must fail;
#   hadolint on Containerfile (and on a broken one).
# The tools are built once from the Go module proxy into ~/.cache/converge/k8s-tools (scripts/lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CONVERGE_ROOT"
ensure_chart_tools

CHART=charts/converge
BROKEN=charts/test/broken
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

kubeconform() {
  "$KUBECONFORM" -strict -summary -kubernetes-version "$CHART_KUBE_VERSION" \
    -schema-location "$KUBE_SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$CRD_SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" "$@"
}

# <what> <pattern> <command...>: the command must fail, and say why (its output matches the pattern).
expect_failure() {
  local what=$1 pattern=$2; shift 2
  if "$@" >"$out/failure.log" 2>&1; then
    cat "$out/failure.log" >&2; die "$what passed on a broken values file"
  fi
  grep -Eq "$pattern" "$out/failure.log" || { cat "$out/failure.log" >&2; die "$what failed, but not with /$pattern/"; }
  printf '  %s fails as it must: %s\n' "$what" "$(grep -Em1 "$pattern" "$out/failure.log" | sed 's/^[[:space:]]*//')"
}

scenarios=("" "$CHART"/ci/*-values.yaml "$CHART"/examples/*-values.yaml)

log "helm lint --strict (default values, ci/, examples/)"
for values in "${scenarios[@]}"; do
  "$HELM" lint --strict --quiet "$CHART" ${values:+--values "$values"} >"$out/lint.log" 2>&1 \
    || { cat "$out/lint.log" >&2; die "helm lint failed${values:+ with $values}"; }
done
echo "  ${#scenarios[@]} scenarios lint clean"

log "helm template | kubeconform -strict (Kubernetes $CHART_KUBE_VERSION)"
for values in "${scenarios[@]}"; do
  name=$(basename "${values:-default-values.yaml}" .yaml)
  "$HELM" template converge "$CHART" --namespace converge ${values:+--values "$values"} >"$out/$name.yaml"
done
kubeconform "$out"/*.yaml

log "helm-unittest"
"$HELM_UNITTEST" --strict "$CHART"

log "each check fails on a broken values file"
expect_failure "helm lint" "kafka/partitions': minimum: got 0, want 1" \
  "$HELM" lint --strict "$CHART" --values "$BROKEN/schema-values.yaml"
"$HELM" template converge "$CHART" --values "$BROKEN/invalid-manifest-values.yaml" >"$out/broken.yaml"
expect_failure "kubeconform" "additional properties 'nodeAffinty' not allowed" kubeconform "$out/broken.yaml"
expect_failure "helm-unittest" "holds no secret variable" \
  "$HELM_UNITTEST" --strict --skip-schema-validation --values "$PWD/$BROKEN/secret-in-configmap-values.yaml" "$CHART"

log "hadolint Containerfile"
"$HADOLINT" --failure-threshold warning Containerfile && echo "  Containerfile: clean"
printf 'FROM node:24\nRUN cd /app && npm install\n' >"$out/Containerfile.broken"
expect_failure "hadolint" "DL3003|DL3016" "$HADOLINT" --failure-threshold warning "$out/Containerfile.broken"
