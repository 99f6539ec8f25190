#!/usr/bin/env bash
# Fails when proto/ breaks wire or generated-code compatibility (buf's FILE rules) against main.
set -euo pipefail
cd "$(dirname "$0")/.."

# The first commit that adds proto/ has nothing to be compatible with.
if ! git cat-file -e main:proto/buf.yaml 2>/dev/null; then
  echo 'buf breaking skipped: main has no proto/ yet.'
  exit 0
fi
buf breaking --against '../.git#branch=main,subdir=proto'
