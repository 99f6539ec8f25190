#!/usr/bin/env bash
# gen/ is committed: fail when it differs from what the .proto files generate now.
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT

buf generate --output "$fresh"
if ! diff -r gen "$fresh/gen"; then
  echo 'proto/gen is out of date: run `npm run generate -w @converge/proto` and commit the result.' >&2
  exit 1
fi
