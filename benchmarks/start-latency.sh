#!/usr/bin/env bash
# `virtsh start` to the guest's first serial byte, against QEMU microvm in the same run.
#
#   benchmarks/start-latency.sh [RUNS]      (default 11; goal: median <= 15 ms)
#
# The guest (guest/firstbyte.S) writes one byte to COM1 and halts, so the figure is the start path, not guest
# work. The serial port goes to an empty file; `firstbyte` (guest/firstbyte.c) forks the command and watches
# the file with inotify, and reports when the file first became non-empty, counted from just before the fork.
# Ours: `virtsh -c kvm:///embed?root=... start bench` of a defined 64 MiB, 1-vCPU domain (virtsh's own exec,
# store, supervisor, hypervisor, VM build included), destroyed after every run outside the timing. QEMU:
# the same ELF under `-M microvm,acpi=off -enable-kvm -cpu kvm64`, killed after the byte. Runs alternate.
# The host's load average is printed first: other work on a 2-core host shifts every figure, so run it idle
# (or under `nice -n -10`, which favours both peers alike). Also reports the exec cost of `virt-kvm --help` and `virtsh --version` (median), which every start pays.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
work="$(mktemp -d)"
trap '"$virtsh" -q -c "$uri" destroy bench >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
. benchmarks/guest/lib.sh
build_guest_tools
console="$work/console"
domain_xml bench "$console" >"$work/bench.xml"
"$virtsh" -q -c "$uri" define "$work/bench.xml" >/dev/null

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ours=() returned=() qemu=()
for run in $(seq 1 "$runs"); do
    : >"$console"
    line="$("$work/firstbyte" "$console" -- "$virtsh" -q -c "$uri" start bench)"
    [ "$(field status "$line")" = 0 ] || { echo "virtsh start failed: $line" >&2; exit 1; }
    ours+=("$(field first_byte_us "$line")")
    returned+=("$(field exit_us "$line")")
    "$virtsh" -q -c "$uri" destroy bench >/dev/null
    : >"$console"
    line="$("$work/firstbyte" --kill "$console" -- $(qemu_command "$console") 2>/dev/null)"
    qemu+=("$(field first_byte_us "$line")")
done
execs() {
    local times=() start end
    for run in $(seq 1 21); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        times+=("$(( (end - start) / 1000 ))")
    done
    printf '%s\n' "${times[@]}" | median | us_to_ms
}
echo "virtsh start -> first serial byte (kvm:///embed, 64 MiB, median of $runs): $(printf '%s\n' "${ours[@]}" | median | us_to_ms) ms"
echo "  min $(printf '%s\n' "${ours[@]}" | sort -n | head -1 | us_to_ms) ms; all runs (ms): $(printf '%s\n' "${ours[@]}" | us_to_ms | tr '\n' ' ')"
echo "virtsh start -> virtsh returned (median of $runs): $(printf '%s\n' "${returned[@]}" | median | us_to_ms) ms"
echo "QEMU microvm -> first serial byte (same guest, median of $runs): $(printf '%s\n' "${qemu[@]}" | median | us_to_ms) ms"
echo "  min $(printf '%s\n' "${qemu[@]}" | sort -n | head -1 | us_to_ms) ms; all runs (ms): $(printf '%s\n' "${qemu[@]}" | us_to_ms | tr '\n' ' ')"
echo "exec of virt-kvm --help (median of 21): $(execs "$SWIFT_VIRT_KVM" --help) ms"
echo "exec of virtsh --version (median of 21): $(execs "$virtsh" --version) ms"
