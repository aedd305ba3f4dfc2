#!/usr/bin/env bash
# Runs every whole-process benchmark in release mode and keeps their output in benchmarks/results/.
# The figures are summarised, with the peer measured in the same run, in docs/performance.md.
#   make bench            (or: benchmarks/run.sh [name ...] to run some of them)
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
all=(xml-throughput virtsh-list-define bench-lock lease-recovery security security-start start-latency start-cgroups guest-memory
     suspend-resume start-batch hugepage-start)
selected=("${@:-${all[@]}}")
status=0
for name in "${selected[@]}"; do
    script="benchmarks/$name.sh"
    [ -x "$script" ] || { echo "== $name: no $script" >&2; status=1; continue; }
    if { [ "${name%%-*}" = security ] || [ "$name" = start-cgroups ]; } && [ "$(id -u)" != 0 ]; then
        echo "== $name: skipped (needs root: file labels, cgroups)"
        continue
    fi
    if [ "$name" = hugepage-start ] && [ "$(id -u)" != 0 ]; then
        echo "== $name: skipped (resizing the huge page pool needs root)"
        continue
    fi
    echo "== $name"
    if ! "$script" 2>&1 | tee "benchmarks/results/$name.txt"; then
        echo "== $name failed" >&2
        status=1
    fi
done
exit $status
