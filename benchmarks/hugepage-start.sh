#!/usr/bin/env bash
# Starting a domain with 1 GiB of 2 MiB huge pages, against what the kernel alone needs to fault those pages in.
#
#   benchmarks/hugepage-start.sh [RUNS]     (default 7; goal: start <= kernel fault-in + 20 ms)
#
# Needs root and 512 free 2 MiB pages, which it makes itself: it takes the huge page pool lock the tests take
# (/tmp/swift-virt-tests-hugepages.lock), grows the host's 2 MiB pool by 512 pages, and puts it back to exactly
# its earlier size on exit. Every run, alternating:
#   - kernel alone: guest/faultin.c maps 1 GiB of 2 MiB pages (MAP_HUGETLB) and faults them in with one
#     MADV_POPULATE_WRITE on one thread; its own clock around mmap + populate (fault_us), and the whole process;
#   - ours: `virtsh start` of a defined 1 GiB domain with <memoryBacking><hugepages/> (the one-byte guest; the
#     hypervisor faults every page in before any vCPU runs), timed by guest/firstbyte.c to the guest's first
#     serial byte and to virtsh's exit, then destroyed outside the timing (the pool's free count is checked);
#   - the start path alone: the same guest with 64 MiB of ordinary memory.
# The first fault-in after the pool grew is slow on this host (the host of this VM backs the memory on first
# touch), so one unmeasured fault-in runs first. Medians; the load average is printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
pages=512
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
[ "$(id -u)" = 0 ] || { echo "hugepage-start: needs root to resize the 2 MiB huge page pool" >&2; exit 1; }
work="$(mktemp -d)"
exec 9>/tmp/swift-virt-tests-hugepages.lock
flock 9
before="$(cat "$pool/nr_hugepages")"
cleanup() {
    "$virtsh" -q -c "$uri" destroy huge >/dev/null 2>&1 || true
    "$virtsh" -q -c "$uri" destroy small >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        echo "$before" >"$pool/nr_hugepages" 2>/dev/null || true
        [ "$(cat "$pool/nr_hugepages")" = "$before" ] && break
        sleep 0.05
    done
    [ "$(cat "$pool/nr_hugepages")" = "$before" ] || echo "hugepage-start: the 2 MiB pool is not back to $before" >&2
    rm -rf "$work"
}
trap cleanup EXIT
. benchmarks/guest/lib.sh
build_guest_tools
gcc -O2 -Wall -Werror -o "$work/faultin" benchmarks/guest/faultin.c

echo "$((before + pages))" >"$pool/nr_hugepages"
[ "$(cat "$pool/free_hugepages")" -ge "$pages" ] || { echo "hugepage-start: the kernel gave fewer than $pages free pages" >&2; exit 1; }
domain_xml huge "$work/huge.console" \
    | sed "s|<memory unit='MiB'>64</memory>|<memory unit='GiB'>1</memory><memoryBacking><hugepages/></memoryBacking>|" \
    >"$work/huge.xml"
domain_xml small "$work/small.console" >"$work/small.xml"
"$virtsh" -q -c "$uri" define "$work/huge.xml" >/dev/null
"$virtsh" -q -c "$uri" define "$work/small.xml" >/dev/null
"$work/faultin" 1024 >/dev/null

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
kernel=() kernel_process=() huge=() huge_returned=() small=()
for run in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    line="$("$work/faultin" 1024)"
    end=$(date +%s%N)
    kernel+=("$(field fault_us "$line")")
    kernel_process+=("$(( (end - start) / 1000 ))")

    free="$(cat "$pool/free_hugepages")"
    : >"$work/huge.console"
    line="$("$work/firstbyte" "$work/huge.console" -- "$virtsh" -q -c "$uri" start huge)"
    [ "$(field status "$line")" = 0 ] || { echo "virtsh start failed: $line" >&2; exit 1; }
    taken=$((free - $(cat "$pool/free_hugepages")))
    [ "$taken" = "$pages" ] || { echo "hugepage-start: the domain took $taken huge pages, not $pages" >&2; exit 1; }
    huge+=("$(field first_byte_us "$line")")
    huge_returned+=("$(field exit_us "$line")")
    "$virtsh" -q -c "$uri" destroy huge >/dev/null

    : >"$work/small.console"
    line="$("$work/firstbyte" "$work/small.console" -- "$virtsh" -q -c "$uri" start small)"
    [ "$(field status "$line")" = 0 ] || { echo "virtsh start failed: $line" >&2; exit 1; }
    small+=("$(field first_byte_us "$line")")
    "$virtsh" -q -c "$uri" destroy small >/dev/null
done
ms() { printf '%s\n' "$@" | median | us_to_ms; }
all() { printf '%s\n' "$@" | us_to_ms | tr '\n' ' '; }
k="$(printf '%s\n' "${kernel[@]}" | median)"
h="$(printf '%s\n' "${huge[@]}" | median)"
s="$(printf '%s\n' "${small[@]}" | median)"
echo "kernel alone: fault-in of 1 GiB of 2 MiB pages, one thread (median of $runs): $(ms "${kernel[@]}") ms; runs (ms): $(all "${kernel[@]}")"
echo "  the same small program as a whole process (exec to exit, median): $(ms "${kernel_process[@]}") ms"
echo "virtsh start -> first serial byte, 1 GiB of 2 MiB huge pages (median of $runs): $(ms "${huge[@]}") ms; runs (ms): $(all "${huge[@]}")"
echo "  virtsh start -> virtsh returned (median): $(ms "${huge_returned[@]}") ms"
echo "virtsh start -> first serial byte, 64 MiB of ordinary memory (median of $runs): $(ms "${small[@]}") ms"
echo "goal: start <= kernel fault-in + 20 ms = $(echo "$k" | awk '{ printf "%.1f", $1 / 1000 + 20 }') ms: $(
    awk -v h="$h" -v k="$k" 'BEGIN { d = (h - k) / 1000; printf "%s (start - fault-in = %.1f ms)", d <= 20 ? "met" : "not met", d }')"
echo "huge page start - ordinary start = $(awk -v h="$h" -v s="$s" 'BEGIN { printf "%.1f", (h - s) / 1000 }') ms, against $(ms "${kernel[@]}") ms for the kernel alone"
