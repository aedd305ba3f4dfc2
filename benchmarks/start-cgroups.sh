#!/usr/bin/env bash
# What a domain's cgroups add to `virtsh start`: the first serial byte of the one-byte guest, with and without
# its cgroups, alternating runs in one process tree.
#
#   benchmarks/start-cgroups.sh [RUNS]      (default 11; needs root and writable cgroups)
#
# Three domains of the start-latency benchmark's kind (64 MiB, 1 vCPU, guest/firstbyte.S):
#   none    - a host root without /sys/fs/cgroup (SWIFT_VIRT_HOST_ROOT=an empty directory): no groups at all;
#   groups  - the groups machine/swift-virt-<name>/{emulator,vcpu0} are made, the hypervisor and its vCPU thread
#             are placed in them after ready (a monitor call), and removed after the run;
#   paused  - <cputune><quota> as well: the hypervisor starts paused, its vCPU is placed, then resumed.
# Each run is timed by `firstbyte` from just before the fork of `virtsh start` to the first byte in the console
# file; the domain is destroyed after every run outside the timing. The host's load average is printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
work="$(mktemp -d)"
trap 'for d in none groups paused; do "$virtsh" -q -c "$uri" destroy $d >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
. benchmarks/guest/lib.sh
build_guest_tools
mkdir -p "$work/no-cgroups"
for name in none groups paused; do
    : >"$work/$name.console"
    domain_xml "$name" "$work/$name.console" >"$work/$name.xml"
done
sed -i 's|<vcpu>1</vcpu>|<vcpu>1</vcpu><cputune><quota>1000000</quota></cputune>|' "$work/paused.xml"
for name in none groups paused; do "$virtsh" -q -c "$uri" define "$work/$name.xml" >/dev/null; done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A times
for run in $(seq 1 "$runs"); do
    for name in none groups paused; do
        host_root=/
        [ "$name" = none ] && host_root="$work/no-cgroups"
        : >"$work/$name.console"
        line="$(SWIFT_VIRT_HOST_ROOT="$host_root" "$work/firstbyte" "$work/$name.console" -- \
            "$virtsh" -q -c "$uri" start "$name")"
        [ "$(field status "$line")" = 0 ] || { echo "virtsh start $name failed: $line" >&2; exit 1; }
        times[$name]+="$(field first_byte_us "$line") "
        SWIFT_VIRT_HOST_ROOT="$host_root" "$virtsh" -q -c "$uri" destroy "$name" >/dev/null
    done
done
for name in none groups paused; do
    echo "$name: virtsh start -> first serial byte (median of $runs): $(printf '%s\n' ${times[$name]} | median | us_to_ms) ms;" \
        "all runs (ms): $(printf '%s\n' ${times[$name]} | us_to_ms | tr '\n' ' ')"
done
if ls /sys/fs/cgroup/cpu/machine 2>/dev/null | grep -q swift-virt; then echo "cgroups left behind" >&2; exit 1; fi
