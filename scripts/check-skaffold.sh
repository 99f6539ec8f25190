#!/usr/bin/env bash
# skaffold.yaml renders, offline and without building: `npm run check:skaffold` (part of `npm test`).
# The rendered release is validated like the chart's (kubeconform -strict), and every image must be the one
# skaffold tagged, so the values skaffold sets still reach every container.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CONVERGE_ROOT"
ensure_chart_tools
SKAFFOLD=$(skaffold_bin)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# helm v3 first on PATH: skaffold runs `helm version --client`, which helm v4 refuses.
render() { # skaffold.yaml, output
  PATH="$(dirname "$HELM"):$PATH" SKAFFOLD_UPDATE_CHECK=false SKAFFOLD_INTERACTIVE=false \
    "$SKAFFOLD" render -f "$1" -p ci --offline=true --digest-source=tag --default-repo="" --output "$2"
}

log "skaffold render -p ci (offline)"
render skaffold.yaml "$out/rendered.yaml" >"$out/render.log" 2>&1 || { cat "$out/render.log" >&2; die "skaffold render failed"; }

"$KUBECONFORM" -strict -summary -kubernetes-version "$CHART_KUBE_VERSION" \
  -schema-location "$KUBE_SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  -schema-location "$CRD_SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" "$out/rendered.yaml"

tag=$(git rev-parse --short HEAD 2>/dev/null || true)
images=$(sed -n 's/^[[:space:]]*image: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$out/rendered.yaml" | sort -u)
[ -n "$images" ] || die "skaffold rendered no image"
while read -r image; do
  case "$image" in
    converge/*:"$tag"*) ;;
    *) die "skaffold rendered $image, not an image it tags (converge/<name>:${tag:-<commit>})" ;;
  esac
done <<<"$images"
echo "  images: $(echo "$images" | tr '\n' ' ')"

log "skaffold render fails on an image value the chart does not have"
sed 's/identity.image.repository:/identity.image.repo:/' skaffold.yaml >"$out/skaffold.yaml"
if render "$out/skaffold.yaml" "$out/broken.yaml" >"$out/broken.log" 2>&1; then die "skaffold render passed with a broken value"; fi
grep -q "additional properties 'repo' not allowed" "$out/broken.log" || { cat "$out/broken.log" >&2; die "skaffold render failed, but not on the schema"; }
echo "  skaffold render fails as it must: $(grep -om1 "additional properties 'repo' not allowed" "$out/broken.log")"
