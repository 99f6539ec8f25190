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
  setsid env $(local_service_env) PORT="$port" node "services/$name/src/main.ts" >>"$LOGS/service-$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/service-$name.pid"
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

stop_services() {
  local entry name pid
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    pid=$(service_pid "$name") || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  for entry in "${SERVICES[@]}"; do
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
    for entry in "${SERVICES[@]}"; do start_service "${entry%%:*}" "${entry##*:}"; done
    for entry in "${SERVICES[@]}"; do wait_ready "${entry%%:*}" "${entry##*:}"; done
    log "Converge is running:"
    for entry in "${SERVICES[@]}"; do printf '  %-14s http://127.0.0.1:%s  (logs: %s)\n' "${entry%%:*}" "${entry##*:}" "$LOGS/service-${entry%%:*}.log" >&2; done
    printf '  %-14s http://127.0.0.1:%s\n' "oidc (dev)" "${OIDC_PORT:-18080}" >&2
    log "stop everything with: npm stop"
    ;;
  down)
    stop_services
    bash scripts/stack.sh down
    ;;
  status)
    for entry in "${SERVICES[@]}"; do
      name=${entry%%:*}
      if pid=$(service_pid "$name"); then printf '%-14s running (pid %s)\n' "$name" "$pid"; else printf '%-14s stopped\n' "$name"; fi
    done
    bash scripts/stack.sh status || true
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
