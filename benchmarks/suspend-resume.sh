#!/usr/bin/env bash
# Suspend + resume round trip: in process (bench-vm: VirtualMachine.pause() + resume() on a running guest) and
# through the monitor (`virtsh suspend` then `virtsh resume` of a running kvm:///embed domain, whole processes).
#
#   benchmarks/suspend-resume.sh [ROUNDS]     (default 1000 in-process rounds; goal: in process <= 1 ms)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1000}"
work="$(mktemp -d)"
trap '"$virtsh" -q -c "$uri" destroy pr >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
. benchmarks/guest/lib.sh
build_guest_tools
swift build -c release --product bench-vm >/dev/null
"$bin/bench-vm" "$work/guest.elf" "$rounds"

domain_xml pr "$work/pr.console" >"$work/pr.xml"
"$virtsh" -q -c "$uri" define "$work/pr.xml" >/dev/null
"$virtsh" -q -c "$uri" start pr >/dev/null
pairs=() batch=()
for run in $(seq 1 11); do
    start=$(date +%s%N)
    "$virtsh" -q -c "$uri" suspend pr >/dev/null
    "$virtsh" -q -c "$uri" resume pr >/dev/null
    end=$(date +%s%N)
    pairs+=("$(( (end - start) / 1000 ))")
    start=$(date +%s%N)
    "$virtsh" -q -c "$uri" 'suspend pr; resume pr' >/dev/null
    end=$(date +%s%N)
    batch+=("$(( (end - start) / 1000 ))")
done
echo "virtsh suspend + virtsh resume (two processes, wall, median of 11): $(printf '%s\n' "${pairs[@]}" | median | us_to_ms) ms"
echo "virtsh 'suspend; resume' (one process, wall, median of 11): $(printf '%s\n' "${batch[@]}" | median | us_to_ms) ms"
