#!/usr/bin/env bash
# CI for the Go tracker (run by `nox -s "tracker(language='go')"`, part of `nox -t ci`):
# build (also without cgo: the store is pure Go), go vet, staticcheck, go test -race (unit
# tests and every tracker vector of spec/vectors), the conformance driver build, and the
# integration test against a real `plowline up` started here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
STATICCHECK_VERSION=v0.8.2

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step "toolchain"
go version

step "build"
go build ./...
CGO_ENABLED=0 go build ./...

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
go test -race -count=1 ./tracker/... ./internal/... ./driver/...

step "driver build"
bash driver/build.sh

step "integration: plowline up"
log="$(mktemp)"
up_pid=""
cleanup() {
  if [ -n "$up_pid" ]; then
    kill -TERM -- "-$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT
# Its own process group (setsid), so the trap stops uv and the server it runs, nothing else.
(cd "$root" && exec setsid uv run --frozen plowline up --port 0) >"$log" 2>&1 &
up_pid=$!
url=""
# Readiness by polling, with a generous bound: a cold machine may first sync the workspace.
for _ in $(seq 1 1200); do
  url="$(sed -n 's#^plowline up: collector \(http://[^ ]*\).*#\1#p' "$log" | head -n1)"
  if [ -n "$url" ] && curl -fsS "$url/micro/all" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$up_pid" 2>/dev/null; then
    echo "plowline up exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  url=""
  sleep 0.25
done
if [ -z "$url" ]; then
  echo "plowline up did not become ready in 300 s:" >&2
  cat "$log" >&2
  exit 1
fi
echo "plowline up at $url"

step "integration test"
PLOWLINE_UP_URL="$url" CI=true go test -race -count=1 -v ./integration/...

step "done"
