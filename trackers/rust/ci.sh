#!/usr/bin/env bash
# The Rust tracker's CI (run by `nox -s "tracker(language='rust')"`, part of `nox -t ci`):
# build, clippy -D warnings, rustfmt --check, unit tests, the wire vectors and an integration
# test through a real `plowline up` started here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
started=$(date +%s)

# A real pipeline for the integration test (scripts/plowline-up.sh), started first so its
# environment syncs while cargo builds.
source scripts/plowline-up.sh
plowline_up_start

cargo build --locked --workspace --all-targets --features plowline-tracker/tokio
cargo clippy --locked --workspace --all-targets --all-features -- -D warnings
cargo fmt --all --check
# Docs build warning-free (every public item is documented: #![deny(missing_docs)]).
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p plowline-tracker --features tokio --quiet

plowline_up_wait

PLOWLINE_COLLECTOR_URL="$PLOWLINE_URL" cargo test --locked --workspace --features plowline-tracker/tokio

echo "trackers/rust/ci.sh: passed in $(( $(date +%s) - started )) s"
