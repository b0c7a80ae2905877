#!/usr/bin/env bash
# Builds the conformance driver (run by `nox -s conformance` before it runs driver.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --locked --quiet -p plowline-tracker-driver
