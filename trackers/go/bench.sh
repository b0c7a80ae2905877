#!/usr/bin/env bash
# Benchmarks of the Go tracker (`nox -s bench -- go`): time per track call and sustained
# events/s through a real `plowline up`, each with a baseline measured in the same run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
# shellcheck source=scripts/plowline-up.sh
source "$here/scripts/plowline-up.sh"
launch_plowline_up "$root"
go build -o "$here/bin/bench" ./bench
wait_plowline_up
"$here/bin/bench" "$@"
