#!/usr/bin/env bash
# Domain XML throughput: parse + semantic validation + format of a typical 60-line domain on one core.
# Builds bench-xml in release mode, runs it 5 times (pinned to one CPU when taskset exists) and prints the
# median documents/s. Extra arguments go to bench-xml (e.g. --schema, --iterations N).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product bench-xml >/dev/null
bin="$(swift build -c release --show-bin-path)/bench-xml"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
rates=()
for run in 1 2 3 4 5; do
    line="$("${pin[@]}" "$bin" "$@")"
    echo "run $run: $line"
    rates+=("${line%% *}")
done
median="$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 3p)"
echo "median: $median documents/s"
