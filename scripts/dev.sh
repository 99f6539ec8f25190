#!/usr/bin/env bash
# The whole system on this machine: `npm start`.
#   scripts/dev.sh [up]   install what is missing, start the stack and every service
#   scripts/dev.sh down   stop the services and the stack
#   scripts/dev.sh status
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CONVERGE_ROOT"
RUN="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/run"
LOGS="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/logs"

service_pid() { local f="$RUN/service-$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

start_service() {
  local name=$1 port=$2
  service_pid "$name" >/dev/null && return
  mkdir -p "$RUN" "$LOGS"
  # shellcheck disable=SC2046
  setsid env $(local_service_env "$name") PORT="$port" node "services/$name/src/main.ts" >>"$LOGS/service-$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/service-$name.pid"
}

# The dashboard and the one public API origin, in front of the services.
start_web() {
  service_pid web >/dev/null && return
  mkdir -p "$RUN" "$LOGS"
  # shellcheck disable=SC2046
  setsid env $(local_web_env) node web/server/main.ts >>"$LOGS/service-web.log" 2>&1 </dev/null &
  echo $! >"$RUN/service-web.pid"
}

wait_ready() {
  local name=$1 port=$2
  for _ in $(seq 120); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    service_pid "$name" >/dev/null || { tail -n 20 "$LOGS/service-$name.log" >&2; die "$name exited during start"; }
    sleep 0.5
  done
  tail -n 20 "$LOGS/service-$name.log" >&2
  die "$name did not become ready on port $port"
}

AGENT_STATE="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/agent"

# One local agent, enrolled once into the MSP's own tenant with an install token the dev partner client
# (an MSP admin) creates, then kept running like the services.
start_local_agent() {
  service_pid agent >/dev/null && return
  if [ ! -f "$AGENT_STATE/credential.json" ]; then
    local access install
    access=$(curl -fsS -u converge-partner-test:converge-partner-test-dev-only-secret \
      -d grant_type=client_credentials "http://127.0.0.1:${OIDC_PORT:-18080}/token" |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).access_token)')
    install=$(curl -fsS -H "authorization: Bearer $access" -H 'content-type: application/json' \
      -d '{"tenantId":"tenant-msp","maxUses":1}' http://127.0.0.1:8104/api/v1/install-tokens |
      node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')
    node agent/src/main.ts enroll --server http://127.0.0.1:8114 --grpc 127.0.0.1:8124 \
      --token "$install" --state-dir "$AGENT_STATE" >>"$LOGS/agent.log" 2>&1 || die "the local agent did not enroll (see $LOGS/agent.log)"
  fi
  # A VM or container without a readable DMI product UUID would land in the identification failures queue (correct,
  # but an empty dashboard); locally the agent reports its machine id as a lab hardware UUID instead.
  local facts=()
  if [ ! -r /sys/class/dmi/id/product_uuid ] && [ -r /etc/machine-id ]; then
    sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/{"hardwareUuid":"\1-\2-\3-\4-\5"}/' /etc/machine-id >"$AGENT_STATE/lab-facts.json"
    facts=(--facts "$AGENT_STATE/lab-facts.json")
  fi
  setsid node agent/src/main.ts run --state-dir "$AGENT_STATE" "${facts[@]}" >>"$LOGS/agent.log" 2>&1 </dev/null &
  echo $! >"$RUN/service-agent.pid"
}

stop_services() {
  local entry name pid
  for entry in web agent "${SERVICES[@]}"; do
    name=${entry%%:*}
    pid=$(service_pid "$name") || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  for entry in web agent "${SERVICES[@]}"; do
    name=${entry%%:*}
    for _ in $(seq 60); do service_pid "$name" >/dev/null || break; sleep 0.25; done
    pid=$(service_pid "$name") && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$RUN/service-$name.pid"
  done
}

case "${1:-up}" in
  up)
    ensure_node
    ensure_node_modules
    bash scripts/stack.sh up
    ensure_dev_secrets # the development keys exist, whole, before the services start in parallel
    for entry in "${SERVICES[@]}"; do start_service "${entry%%:*}" "${entry##*:}"; done
    for entry in "${SERVICES[@]}"; do wait_ready "${entry%%:*}" "${entry##*:}"; done
    # The development identities' tenants (tenant-msp, tenant-contoso), created through sync's API when missing.
    OIDC_ISSUER="http://127.0.0.1:${OIDC_PORT:-18080}" SYNC_URL=http://127.0.0.1:8105 \
      node packages/dev-oidc/src/seed-tenants.ts >>"$LOGS/service-sync.log" 2>&1 ||
      die "the development tenants could not be created (see $LOGS/service-sync.log)"
    start_local_agent
    ensure_web_build
    start_web
    wait_ready web "$WEB_PORT"
    log "Converge is running:"
    printf '  %-14s http://127.0.0.1:%s  (dashboard and API; logs: %s)\n' "web" "$WEB_PORT" "$LOGS/service-web.log" >&2
    for entry in "${SERVICES[@]}"; do printf '  %-14s http://127.0.0.1:%s  (logs: %s)\n' "${entry%%:*}" "${entry##*:}" "$LOGS/service-${entry%%:*}.log" >&2; done
    printf '  %-14s agent ports 8114 (WebSocket), 8124 (gRPC)\n' "agent-gateway" >&2
    printf '  %-14s state %s  (logs: %s)\n' "local agent" "$AGENT_STATE" "$LOGS/agent.log" >&2
    printf '  %-14s http://127.0.0.1:%s\n' "oidc (dev)" "${OIDC_PORT:-18080}" >&2
    log "stop everything with: npm stop"
    ;;
  down)
    stop_services
    bash scripts/stack.sh down
    ;;
  status)
    for entry in "${SERVICES[@]}" agent web; do
      name=${entry%%:*}
      if pid=$(service_pid "$name"); then printf '%-14s running (pid %s)\n' "$name" "$pid"; else printf '%-14s stopped\n' "$name"; fi
    done
    bash scripts/stack.sh status || true
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
