#!/bin/sh
# Lock daemon benchmarks (release build): round trip p50/p99, 16 concurrent clients, RSS at 10,000 leases.
# Results: benchmarks/results/bench-lock.txt; summary in docs/locking.md.
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product virtlockd
swift build -c release --product bench-lock
BIN=$(swift build -c release --show-bin-path)
mkdir -p benchmarks/results
"$BIN/bench-lock" --virtlockd "$BIN/virtlockd" "$@" | tee benchmarks/results/bench-lock.txt
