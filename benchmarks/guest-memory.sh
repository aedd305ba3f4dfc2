#!/usr/bin/env bash
# Memory each additional running guest costs the host beyond the guest RAM it touched, against QEMU microvm.
#
#   benchmarks/guest-memory.sh [GUESTS]     (default 3; goals: supervisor + hypervisor anonymous <= 5 MiB,
#                                            hypervisor RSS <= 16 MiB)
#
# Starts GUESTS domains of 64 MiB and 1 vCPU (the one-byte guest, halted after its byte) with `virtsh start`,
# then, for each, reads /proc/PID/smaps of its supervisor and hypervisor (pids from the run directory's pid
# files) and subtracts the guest-RAM mapping (guest/memory.py). QEMU microvm runs the same guest with 64 MiB and
# is measured the same way (its own process only). Prints the median over the guests.
set -euo pipefail
cd "$(dirname "$0")/.."
guests="${1:-3}"
work="$(mktemp -d)"
qemu_pids=()
cleanup() {
    for pid in "${qemu_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for i in $(seq 1 "$guests"); do "$virtsh" -q -c "$uri" destroy "mem$i" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. benchmarks/guest/lib.sh
build_guest_tools
ram_kib=$((64 * 1024))
wait_byte() { for _ in $(seq 1 500); do [ -s "$1" ] && return 0; sleep 0.01; done; echo "no output in $1" >&2; return 1; }
kib_to_mib() { awk '{ printf "%.1f\n", $1 / 1024 }'; }

sup_anon=() hyp_anon=() pair_anon=() hyp_rss=() sup_rss=() touched=()
for i in $(seq 1 "$guests"); do
    domain_xml "mem$i" "$work/mem$i.console" >"$work/mem$i.xml"
    "$virtsh" -q -c "$uri" define "$work/mem$i.xml" >/dev/null
    "$virtsh" -q -c "$uri" start "mem$i" >/dev/null
    wait_byte "$work/mem$i.console"
done
sleep 0.5
for i in $(seq 1 "$guests"); do
    sup="$(head -1 "$work/root/run/mem$i.supervisor.pid")"
    hyp="$(head -1 "$work/root/run/mem$i.pid")"
    s="$(python3 benchmarks/guest/memory.py "$ram_kib" "$sup")"
    h="$(python3 benchmarks/guest/memory.py "$ram_kib" "$hyp")"
    echo "mem$i supervisor: $s"
    echo "mem$i hypervisor: $h"
    sup_anon+=("$(field anon_kib "$s")"); sup_rss+=("$(field rss_kib "$s")")
    hyp_anon+=("$(field anon_kib "$h")"); hyp_rss+=("$(field rss_kib "$h")")
    pair_anon+=("$(( $(field anon_kib "$s") + $(field anon_kib "$h") ))")
    touched+=("$(field guest_rss_kib "$h")")
done

q_anon=() q_rss=() q_touched=()
for i in $(seq 1 "$guests"); do
    : >"$work/qemu$i.console"
    $(qemu_command "$work/qemu$i.console") 2>/dev/null &
    qemu_pids+=("$!")
    disown "$!"
    wait_byte "$work/qemu$i.console"
done
sleep 0.5
for pid in "${qemu_pids[@]}"; do
    q="$(python3 benchmarks/guest/memory.py "$ram_kib" "$pid")"
    echo "qemu: $q"
    q_anon+=("$(field anon_kib "$q")"); q_rss+=("$(field rss_kib "$q")"); q_touched+=("$(field guest_rss_kib "$q")")
done

m() { printf '%s\n' "$@" | median | kib_to_mib; }
echo "ours: supervisor + hypervisor anonymous beyond guest RAM (median of $guests): $(m "${pair_anon[@]}") MiB" \
    "(supervisor $(m "${sup_anon[@]}"), hypervisor $(m "${hyp_anon[@]}"))"
echo "ours: hypervisor RSS beyond guest RAM: $(m "${hyp_rss[@]}") MiB; supervisor RSS: $(m "${sup_rss[@]}") MiB;" \
    "guest RAM touched: $(m "${touched[@]}") MiB"
echo "QEMU microvm: anonymous beyond guest RAM: $(m "${q_anon[@]}") MiB; RSS beyond guest RAM: $(m "${q_rss[@]}") MiB;" \
    "guest RAM touched: $(m "${q_touched[@]}") MiB"
