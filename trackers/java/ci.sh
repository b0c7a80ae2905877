#!/usr/bin/env bash
# The Java tracker's CI (nox -s "tracker(language='java')"): build with -Xlint:all -Werror and
# Error Prone, JUnit 5 unit tests and wire vectors (Surefire), the conformance driver's build,
# then the integration tests against a real `plowline up` started here on a free port.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
started=$(date +%s)
mvn_args=(-B --no-transfer-progress)
source "$here/scripts/plowline-up.sh"

# The pipeline starts first (uv may have to sync the workspace) and comes up while Maven builds.
plowline_up_start "$root"
cd "$here"
mvn "${mvn_args[@]}" verify -DexcludedGroups=integration
bash driver/build.sh
plowline_up_wait
mvn "${mvn_args[@]}" surefire:test -Dgroups=integration -Dplowline.collector="$PLOWLINE_URL"
echo "java tracker ci: passed in $(( $(date +%s) - started )) s"
