#!/usr/bin/env bash
# CI for the Go tracker (run by `nox -s "tracker(language='go')"`, part of `nox -t ci`):
# build without cgo (the store is pure Go), go vet, staticcheck, go test -race (unit
# tests and every tracker vector of spec/vectors), the conformance driver build, and the
# integration test against a real `plowline up` started here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
STATICCHECK_VERSION=v0.8.2

# Everything but the race detector builds without cgo (the tracker needs none), so build,
# vet, staticcheck and the driver share one build cache configuration; -race needs cgo and
# makes the second.
export CGO_ENABLED=0

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "toolchain"
go version

# The pipeline for the integration test starts now, so its first-run setup overlaps the Go
# steps; it is awaited (by polling) just before the integration test.
# shellcheck source=scripts/plowline-up.sh
source "$here/scripts/plowline-up.sh"
launch_plowline_up "$root"

step "build (CGO_ENABLED=0: the store is pure Go)"
go build ./...

step "go vet"
go vet ./...

step "staticcheck $STATICCHECK_VERSION"
bin="$(go env GOPATH)/bin"
if ! "$bin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
"$bin/staticcheck" ./...

step "gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted: $unformatted" >&2
  exit 1
fi

step "go test -race (unit tests, wire vectors)"
CGO_ENABLED=1 go test -race -count=1 ./tracker/... ./internal/... ./driver/...

step "driver build"
bash driver/build.sh

step "integration: wait for plowline up"
wait_plowline_up

step "integration test"
CI=true CGO_ENABLED=1 go test -race -count=1 -v ./integration/...

step "done"
