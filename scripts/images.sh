#!/usr/bin/env bash
# The container images, built daemonless with podman (Debian's) from Containerfile.
#   scripts/images.sh base            a local Node.js 24 base image (debootstrap + Node from the npm registry),
#                                     for machines that cannot pull docker.io/library/node
#   scripts/images.sh build TARGET [SERVICE] IMAGE   one image (what skaffold's custom builder calls)
#   scripts/images.sh all             every service's image and the agent's, tagged converge/<name>:dev
# NODE_IMAGE overrides the base (default: the local one when it exists, else node:24-bookworm-slim).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CONVERGE_ROOT"

LOCAL_NODE_IMAGE="localhost/converge-node:$NODE_MAJOR-bookworm"
CONTAINERS="$CONVERGE_CACHE/containers"

# podman as this machine kind allows it: runc (crun fails on cgroup v1 hybrid hosts), the host network,
# ulimits under the hard limit, storage under the cache.
podman_env() {
  command -v podman >/dev/null || { log "installing podman from Debian"; apt_get_install podman buildah runc debootstrap uidmap; }
  mkdir -p "$CONTAINERS"
  cat >"$CONTAINERS/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
netns = "host"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
  cat >"$CONTAINERS/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$CONTAINERS/storage"
runroot = "$CONTAINERS/run"
CONF
  export CONTAINERS_CONF="$CONTAINERS/containers.conf" CONTAINERS_STORAGE_CONF="$CONTAINERS/storage.conf"
}
apt_get_install() {
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

base_image() {
  podman_env
  if podman image exists "$LOCAL_NODE_IMAGE"; then echo "$LOCAL_NODE_IMAGE"; return; fi
  ensure_node
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  command -v debootstrap >/dev/null || apt_get_install debootstrap
  local root npm_version
  root=$(mktemp -d "$CONTAINERS/.rootfs.XXXXXX")
  log "building $LOCAL_NODE_IMAGE: debootstrap bookworm (minbase), Node.js $(node --version) and npm"
  debootstrap --variant=minbase --include=ca-certificates,tini bookworm "$root" http://deb.debian.org/debian >&2 \
    || { rm -rf "$root"; die "debootstrap failed"; }
  install -m 0755 "$(command -v node)" "$root/usr/local/bin/node"
  npm_version=$(npm --version)
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  (cd "$root/tmp" && npm pack --silent "npm@$npm_version" >/dev/null) || die "npm pack npm@$npm_version failed"
  tar xzf "$root"/tmp/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  rm -rf "$root"/tmp/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc "$root"/usr/share/man
  tar -C "$root" -c . | podman import --change 'CMD ["node"]' - "$LOCAL_NODE_IMAGE" >/dev/null
  rm -rf "$root"
  echo "$LOCAL_NODE_IMAGE"
}

node_image() {
  if [ -n "${NODE_IMAGE:-}" ]; then echo "$NODE_IMAGE"; return; fi
  if podman image exists "$LOCAL_NODE_IMAGE"; then echo "$LOCAL_NODE_IMAGE"; return; fi
  echo docker.io/library/node:24-bookworm-slim
}

# build TARGET [SERVICE] IMAGE
build() {
  podman_env
  local target=$1 service="" image
  if [ "$target" = service ]; then service=$2; image=$3; else image=$2; fi
  local args=(--target "$target" --build-arg "NODE_IMAGE=$(node_image)" --build-arg "VERSION=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' charts/converge/Chart.yaml)"
    --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    --layers --ignorefile .containerignore -f Containerfile -t "$image")
  [ -z "$service" ] || args+=(--build-arg "SERVICE=$service")
  # A machine behind a TLS-inspecting proxy trusts its CA; npm in the build must too (a build secret: it is not
  # kept in any layer).
  local ca=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-}}
  [ -z "$ca" ] || [ ! -f "$ca" ] || args+=(--secret "id=ca,src=$ca")
  log "podman build --target $target${service:+ ($service)} -t $image"
  podman build "${args[@]}" . >&2
  if [ "${PUSH_IMAGE:-false}" = true ]; then podman push --tls-verify="${TLS_VERIFY:-true}" "$image" >&2; fi
}

case "${1:-}" in
  base) base_image ;;
  build) shift; build "$@" ;;
  all)
    for name in identity deployments sessions agent-gateway sync; do build service "$name" "converge/$name:dev"; done
    build agent converge/agent:dev
    [ ! -f web/package.json ] || build dashboard converge/dashboard:dev
    ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
