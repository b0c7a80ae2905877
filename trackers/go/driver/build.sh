#!/usr/bin/env bash
# Builds the conformance driver binary (run by `nox -s conformance` and by driver.yaml's
# build step). The binary is written atomically, so concurrent builds (two mutants starting
# at once) never leave a half-written file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../bin"
mkdir -p "$out"
tmp="$(mktemp "$out/.driver.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
(cd "$here/.." && CGO_ENABLED=0 go build -o "$tmp" ./driver)
mv -f "$tmp" "$out/driver"
