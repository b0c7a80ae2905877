#!/usr/bin/env bash
# Builds the conformance driver: the tracker library and the driver, compiled with javac alone
# (no Maven, no download), into driver/target/classes, which driver.yaml and the mutants'
# manifests run. Safe to call concurrently and cheap when nothing changed: a lock serialises
# builds and a hash of the sources skips an up-to-date one (a running driver is not disturbed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$here/target"
mkdir -p "$target"
exec 9>"$target/.build.lock"
flock 9
mapfile -t sources < <(find "$here/../src/main/java" "$here/src" -name '*.java' | LC_ALL=C sort)
hash="$(cat "${sources[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$target/classes/.sources.sha256" && "$(cat "$target/classes/.sources.sha256")" == "$hash" ]]; then
  echo "java driver up to date in $target/classes"
  exit 0
fi
rm -rf "$target/classes"
mkdir -p "$target/classes"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$target/classes" "${sources[@]}"
echo "$hash" > "$target/classes/.sources.sha256"
echo "java driver built in $target/classes"
