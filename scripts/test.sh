#!/usr/bin/env bash
# Every test of the project against the real local stack: `npm test`.
# Installs what is missing (Node.js 24, npm dependencies, the stack's servers, the
# chart tools), starts the stack if it is not running (and stops it again afterwards),
# then runs the static checks (the Helm chart's included), the unit and integration
# tests, the fault tests, which stop and restart shared servers and so run alone, one
# file at a time, the browser tests and the chart's install on a local API server.
# skaffold.yaml is checked apart (`npm run check:skaffold`): skaffold takes 30 minutes
# to build cold, more than every other tool together.
# --forceExit: kafkajs can keep a request timer alive briefly after disconnect, and a
# hung runner would cost CI its whole budget.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_node_modules
cd "$CONVERGE_ROOT"

if ! bash scripts/stack.sh status >/dev/null 2>&1; then
  trap 'bash scripts/stack.sh down' EXIT
fi
bash scripts/stack.sh up

log "static checks (format, lint, types, proto)"
npm run check --silent
npm run breaking --silent -w @converge/proto

log "the Helm chart (offline)"
npm run check:chart --silent

log "unit and integration tests"
npm run jest --silent -- --forceExit --testPathIgnorePatterns '\.fault\.test\.ts$' "$@"

log "fault tests"
npm run jest --silent -- --forceExit --runInBand --testMatch '**/*.fault.test.ts' --passWithNoTests "$@"

log "browser tests (the dashboard in Chromium against the local system)"
ensure_chromium
ensure_web_build
npx playwright test -c web/playwright.config.ts

# Last and alone: on a machine without the cached control plane this builds it first (20-30 minutes of Go
# build on two cores), and nothing else should compete for the cores meanwhile.
log "the chart on a local API server"
npm run test:chart-install --silent
