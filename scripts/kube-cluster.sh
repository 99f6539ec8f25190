#!/usr/bin/env bash
# A Kubernetes control plane on 127.0.0.1 for the chart's install test: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, and kwok faking one node and the pods' lifecycle (no container runs).
#   scripts/kube-cluster.sh up DIR     start it, state and logs in DIR; prints the kubeconfig's path
#   scripts/kube-cluster.sh down DIR   stop it (reverse order, waiting for each process)
# Ports: KUBE_API_PORT (16443), and 18379-18381, 18257, 18259 for etcd, the controller manager and the scheduler.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

API_PORT=${KUBE_API_PORT:-16443}
ETCD_PORT=${KUBE_ETCD_PORT:-18379}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

up() {
  local dir=$1 bin kwok
  mkdir -p "$dir"/{pki,logs,run,etcd}
  mkdir -p "$K8S_TOOLS"
  bin=$(kube_bins)
  kwok=$(kwok_bin)
  kwok_stages >"$dir/kwok.yaml"
  local pki="$dir/pki" kubeconfig="$dir/kubeconfig" token
  if [ ! -f "$pki/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=converge-test-ca -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$token,admin,admin,system:masters" >"$pki/tokens.csv"
    cat >"$kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster: { server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true }
users:
  - name: admin
    user: { token: "$token" }
contexts:
  - name: local
    context: { cluster: local, user: admin }
current-context: local
KC
  fi

  spawn() { local name=$1; shift; setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null & echo $! >"$dir/run/$name.pid"; }
  wait_for() { # name, url
    local i
    for i in $(seq 240); do
      curl -fsk --max-time 2 "$2" >/dev/null 2>&1 && return 0
      kill -0 "$(cat "$dir/run/$1.pid")" 2>/dev/null || { tail -n 30 "$dir/logs/$1.log" >&2; die "$1 exited during start"; }
      sleep 0.5
    done
    tail -n 30 "$dir/logs/$1.log" >&2; die "$1 did not become ready"
  }

  spawn etcd "$bin/etcd" --name test --data-dir "$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "test=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT + 2))"
  wait_for etcd "http://127.0.0.1:$ETCD_PORT/health"
  spawn kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" --cert-dir "$pki" \
    --token-auth-file "$pki/tokens.csv" --client-ca-file "$pki/ca.crt" --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" --service-cluster-ip-range 10.96.0.0/16 --allow-privileged \
    --enable-priority-and-fairness=false --endpoint-reconciler-type none
  wait_for kube-apiserver "https://127.0.0.1:$API_PORT/readyz"
  spawn kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 18257 --service-account-private-key-file "$pki/sa.key" \
    --root-ca-file "$pki/apiserver.crt" --use-service-account-credentials=false --controllers '*'
  spawn kube-scheduler "$bin/kube-scheduler" --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" \
    --authorization-kubeconfig "$kubeconfig" --leader-elect=false --bind-address 127.0.0.1 --secure-port 18259
  spawn kwok "$kwok" --kubeconfig "$kubeconfig" --config "$dir/kwok.yaml" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --cidr 10.0.0.1/24 --node-ip 10.0.0.1
  # One fake node, large enough for every replica and the chart's requests; labelled with a zone so topology
  # spread has something to spread over.
  "$bin/kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0" }
  labels: { kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/zone: zone-a, type: kwok }
status:
  allocatable: { cpu: "64", memory: 256Gi, pods: "250" }
  capacity: { cpu: "64", memory: 256Gi, pods: "250" }
NODE
  "$bin/kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node/kwok-node-0 --timeout=120s >/dev/null \
    || { tail -n 30 "$dir/logs/kwok.log" >&2; die "the fake node did not become ready"; }
  echo "$kubeconfig"
}

down() {
  local dir=$1 name pid i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${COMPONENTS[$i]}
    [ -f "$dir/run/$name.pid" ] || continue
    pid=$(cat "$dir/run/$name.pid")
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/run/$name.pid"
  done
}

case "${1:-}" in
  up) up "${2:?directory}" ;;
  down) down "${2:?directory}" ;;
  *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
