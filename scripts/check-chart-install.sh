#!/usr/bin/env bash
# The chart on a real API server: `npm run test:chart-install` (the last stage of `npm test`).
# Starts a local control plane (scripts/kube-cluster.sh: kube-apiserver, etcd, controller manager, scheduler,
# and kwok, which fakes the node and the pods' lifecycle: no container runs, so this checks what the API server
# admits and what the controllers do with it, not the services themselves), then:
#   helm install with the operators' example values, --wait for every Deployment to roll out;
#   checks the HorizontalPodAutoscalers, PodDisruptionBudgets and NetworkPolicies were admitted as rendered;
#   helm upgrade with a changed drain setting, which must roll the gateway out again;
#   helm test;
#   a second release with the Gateway API routes and the ServiceMonitor, after their CRDs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CONVERGE_ROOT"
ensure_chart_tools
CHART=charts/converge
EXAMPLES=(-f "$CHART/examples/strimzi-values.yaml" -f "$CHART/examples/mongodb-operator-values.yaml" -f "$CHART/examples/redis-values.yaml")

dir=$(mktemp -d)
trap 'bash scripts/kube-cluster.sh down "$dir"; rm -rf "$dir"' EXIT
started=$(date +%s)
log "starting a local API server (kube-apiserver $KUBE_VERSION + kwok)"
KUBECONFIG=$(bash scripts/kube-cluster.sh up "$dir")
export KUBECONFIG
KUBECTL="$(kube_bins)/kubectl"
k() { "$KUBECTL" "$@"; }
echo "  ready in $(($(date +%s) - started)) s"

# The Secrets the values refer to. Placeholders: nothing reads them under kwok.
secrets() {
  local ns=$1
  k create namespace "$ns" >/dev/null
  k -n "$ns" create secret generic converge-secrets --from-literal=mongodb-uri=mongodb://mongo:27017/ \
    --from-literal=redis-url=redis://redis:6379 --from-literal=deployment-secrets-key="$(head -c 32 /dev/urandom | base64 -w0)" \
    --from-literal=integration-secrets-key="$(head -c 32 /dev/urandom | base64 -w0)" \
    --from-literal=session-secret="$(head -c 32 /dev/urandom | base64 -w0)" >/dev/null
  k -n "$ns" create secret generic converge --from-literal=password=kafka >/dev/null
  k -n "$ns" create secret generic converge-cluster-ca-cert --from-literal=ca.crt=placeholder >/dev/null
  k -n "$ns" create secret generic converge-mongodb-admin-converge --from-literal=connectionString.standard=mongodb://mongo:27017/ >/dev/null
  k -n "$ns" create secret generic converge-redis --from-literal=redis-password=redis --from-literal=password=redis >/dev/null
  k -n "$ns" create secret generic converge-kafka --from-literal=password=kafka >/dev/null
  k -n "$ns" create secret generic converge-oidc --from-literal=client-secret=oidc >/dev/null
}
# kind expected-count: the release's objects of that kind in namespace converge
expect_count() {
  local found
  found=$(k -n converge get "$1" -l app.kubernetes.io/instance=converge -o name | wc -l)
  [ "$found" -eq "$2" ] || { k -n converge get "$1" >&2; die "expected $2 $1, the API server holds $found"; }
  echo "  $1: $found admitted"
}

log "helm install (examples: Strimzi, MongoDB operator, Redis) --wait"
secrets converge
"$HELM" install converge "$CHART" -n converge "${EXAMPLES[@]}" --wait --timeout 5m >/dev/null
for deployment in $(k -n converge get deployment -l app.kubernetes.io/instance=converge -o name); do
  k -n converge rollout status "$deployment" --timeout=120s >/dev/null || die "$deployment did not roll out"
done
echo "  $(k -n converge get deployment -l app.kubernetes.io/instance=converge -o name | wc -l) Deployments rolled out"
expect_count horizontalpodautoscaler 2
expect_count poddisruptionbudget 6
expect_count networkpolicy 6
metrics=$(k -n converge get hpa converge-agent-gateway -o jsonpath='{.spec.metrics[*].type}')
[ "$metrics" = "Pods Resource" ] || die "the gateway's HPA has metrics '$metrics', not 'Pods Resource'"
grace=$(k -n converge get deployment converge-agent-gateway -o jsonpath='{.spec.template.spec.terminationGracePeriodSeconds}')
[ "$grace" = 55 ] || die "the gateway's grace period is $grace, not 55"
echo "  gateway: HPA on connected agents and CPU, grace period ${grace} s"

log "helm upgrade (agentGateway.drain.spreadSeconds 10 -> 20) rolls the gateway"
before=$(k -n converge get deployment converge-agent-gateway -o jsonpath='{.metadata.generation}')
"$HELM" upgrade converge "$CHART" -n converge "${EXAMPLES[@]}" --set agentGateway.drain.spreadSeconds=20 --wait --timeout 5m >/dev/null
k -n converge rollout status deployment/converge-agent-gateway --timeout=120s >/dev/null
after=$(k -n converge get deployment converge-agent-gateway -o jsonpath='{.metadata.generation}')
spread=$(k -n converge get configmap converge-agent-gateway -o jsonpath='{.data.DRAIN_SPREAD}')
[ "$after" -gt "$before" ] || die "the upgrade did not change the gateway's pod template (generation $before -> $after)"
[ "$spread" = 20s ] || die "DRAIN_SPREAD is '$spread' after the upgrade"
echo "  gateway generation $before -> $after, DRAIN_SPREAD=$spread, revision $("$HELM" -n converge history converge -o json | grep -o '"revision":[0-9]*' | tail -1 | cut -d: -f2)"

log "helm test"
"$HELM" test converge -n converge --timeout 2m >"$dir/test.log" || { cat "$dir/test.log" >&2; die "helm test failed"; }
grep -q "^TEST SUITE: *converge-test-readiness" "$dir/test.log" && grep -q "^Phase: *Succeeded" "$dir/test.log" \
  || { cat "$dir/test.log" >&2; die "helm test ran no test, or it did not succeed"; }
grep -E "^(TEST SUITE|Phase):" "$dir/test.log" | sed 's/^/  /'

log "a second release: Gateway API routes and a ServiceMonitor (their CRDs applied first)"
k apply -f "$CRD_SCHEMAS/crds/" >/dev/null
k wait --for=condition=Established crd/httproutes.gateway.networking.k8s.io crd/grpcroutes.gateway.networking.k8s.io \
  crd/servicemonitors.monitoring.coreos.com --timeout=60s >/dev/null
secrets converge-gateway-api
# Without --wait: helm would wait for the agents' LoadBalancer Service to get an address, which needs a cloud.
"$HELM" install converge "$CHART" -n converge-gateway-api -f "$CHART/ci/gateway-api-values.yaml" >/dev/null
for deployment in $(k -n converge-gateway-api get deployment -o name); do
  k -n converge-gateway-api rollout status "$deployment" --timeout=120s >/dev/null || die "$deployment did not roll out"
done
echo "  $(k -n converge-gateway-api get httproute,grpcroute,servicemonitor -o name | tr '\n' ' ')"
echo "  done in $(($(date +%s) - started)) s"
