#!/usr/bin/env bash
# Domains started back to back: one `virtsh 'start d1; start d2; ...'` batch over COUNT defined domains of one
# kvm:///embed root (64 MiB, 1 vCPU, the one-byte guest), timed as a whole process; then all destroyed in one
# batch (timed too).
#
#   benchmarks/start-batch.sh [COUNT]      (default 50; goal: >= 20 starts per second)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-50}"
work="$(mktemp -d)"
destroy_all() { "$virtsh" -q -c "$uri" "$(for i in $(seq 1 "$count"); do printf 'destroy d%d; ' "$i"; done)" >/dev/null 2>&1 || true; }
trap 'destroy_all; rm -rf "$work"' EXIT
. benchmarks/guest/lib.sh
build_guest_tools
for i in $(seq 1 "$count"); do
    domain_xml "d$i" >"$work/d$i.xml"
    echo "define $work/d$i.xml"
done | "$virtsh" -q -c "$uri" >/dev/null
starts="$(for i in $(seq 1 "$count"); do printf 'start d%d; ' "$i"; done)"
begin=$(date +%s%N)
"$virtsh" -q -c "$uri" "$starts" >/dev/null
end=$(date +%s%N)
running="$("$virtsh" -q -c "$uri" list --name | grep -c . || true)"
[ "$running" -eq "$count" ] || { echo "expected $count running domains, virtsh lists $running" >&2; exit 1; }
ms=$(( (end - begin) / 1000000 ))
echo "virtsh batch of $count starts: $ms ms, $(awk -v n="$count" -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }') starts/s"
begin=$(date +%s%N)
destroy_all
end=$(date +%s%N)
echo "virtsh batch of $count destroys: $(( (end - begin) / 1000000 )) ms"
