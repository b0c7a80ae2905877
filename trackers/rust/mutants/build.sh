#!/usr/bin/env bash
# Builds the driver with the `mutants` feature into its own target folder, so the normal
# driver binary (target/debug) is never a mutant build. Each manifest's `build` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --locked --quiet -p plowline-tracker-driver --features mutants --target-dir target/mutants
