#!/usr/bin/env bash
# Builds the conformance driver: the tracker library and the driver, compiled with javac alone
# (no Maven, no download), into driver/target/classes. driver.yaml runs the result.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/target/classes"
rm -rf "$out"
mkdir -p "$out"
find "$here/../src/main/java" "$here/src" -name '*.java' > "$here/target/sources.txt"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$out" @"$here/target/sources.txt"
echo "java driver built in $out"
