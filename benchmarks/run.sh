#!/usr/bin/env bash
# Runs every whole-process benchmark in release mode and keeps their output in benchmarks/results/.
# The figures are summarised, with the peer measured in the same run, in docs/performance.md.
#   make bench            (or: benchmarks/run.sh [name ...] to run some of them)
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
all=(xml-throughput virtsh-list-define bench-lock security security-start start-latency guest-memory suspend-resume start-batch)
selected=("${@:-${all[@]}}")
status=0
for name in "${selected[@]}"; do
    script="benchmarks/$name.sh"
    [ -x "$script" ] || { echo "== $name: no $script" >&2; status=1; continue; }
    if [ "${name%%-*}" = security ] && [ "$(id -u)" != 0 ]; then
        echo "== $name: skipped (labelling files needs root)"
        continue
    fi
    echo "== $name"
    if ! "$script" 2>&1 | tee "benchmarks/results/$name.txt"; then
        echo "== $name failed" >&2
        status=1
    fi
done
exit $status
