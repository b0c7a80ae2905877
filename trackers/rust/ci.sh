#!/usr/bin/env bash
# The Rust tracker's CI (run by `nox -s "tracker(language='rust')"`, part of `nox -t ci`):
# build, clippy -D warnings, rustfmt --check, unit tests, the wire vectors and an integration
# test through a real `plowline up` started here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
started=$(date +%s)

cargo build --locked --workspace --all-targets
cargo clippy --locked --workspace --all-targets --all-features -- -D warnings
cargo fmt --all --check
# Docs build warning-free (every public item is documented: #![deny(missing_docs)]).
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p plowline-tracker --features tokio --quiet

# A real pipeline for the integration test: collector + enricher + store in one process, on a
# free port, in its own process group so the trap can stop exactly it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$(mktemp)"
(cd "$root" && exec setsid uv run --frozen plowline up --port "$port" >"$log" 2>&1) &
up_pid=$!
stop_up() {
    kill -TERM -- "-$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
}
trap stop_up EXIT
url="http://127.0.0.1:$port"
# Ready when its API answers; no fixed window: wait as long as the process is alive (bounded).
for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$url/micro/all" 2>/dev/null; then break; fi
    if ! kill -0 "$up_pid" 2>/dev/null; then
        echo "plowline up exited early:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.5
done
curl -fsS -o /dev/null "$url/micro/all" || { echo "plowline up never answered:" >&2; cat "$log" >&2; exit 1; }

PLOWLINE_COLLECTOR_URL="$url" cargo test --locked --workspace --features plowline-tracker/tokio

echo "trackers/rust/ci.sh: passed in $(( $(date +%s) - started )) s"
