#!/usr/bin/env bash
# The Java tracker's figures (nox -s bench -- java): time per track call and sustained events/s
# to a real `plowline up`, each with a baseline measured in the same run (bench/src/.../Bench.java).
# Compiled with javac alone; no JMH (one JVM, warm-up rounds, medians).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/scripts/plowline-up.sh"
plowline_up_start "$root"
out="$here/bench/target/classes"
rm -rf "$out"
mkdir -p "$out"
mapfile -t sources < <(find "$here/src/main/java" "$here/bench/src" -name '*.java' | LC_ALL=C sort)
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$out" "${sources[@]}"
plowline_up_wait
java -Xms512m -Xmx512m -XX:+UseParallelGC -cp "$out" dev.plowline.tracker.bench.Bench "$PLOWLINE_URL"
