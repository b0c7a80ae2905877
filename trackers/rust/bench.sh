#!/usr/bin/env bash
# Rust tracker benchmarks (`nox -s bench -- rust`), each with a same-run baseline: time per
# track call against building the payload by hand, and sustained events/s to a real
# `plowline up` against a raw HTTP POST loop. Usage: bench.sh [events] (default 5000).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/plowline-up.sh
plowline_up_start
cargo build --locked --release --example bench --quiet
plowline_up_wait
./target/release/examples/bench "$PLOWLINE_URL" "${1:-5000}"
