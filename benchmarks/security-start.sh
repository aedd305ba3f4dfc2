#!/usr/bin/env bash
# What sVirt labelling adds to a real start: `virtsh start` of a domain with four disks (three writable, one
# read-only) plus its kernel, through the whole start path (store reservation, supervisor, relabelling,
# confined hypervisor), root only.
#
#   benchmarks/security-start.sh [RUNS]      (default 21; goal: labelling adds <= 2 ms to a start with four disks)
#
# Two embed roots, alternating run by run:
#   labelled:   security_driver = "selinux" (files are labelled even though SELinux is disabled here), DAC owner
#               +64203, originals remembered in trusted.swift-virt.* attributes
#   unlabelled: security_driver = "none", dynamic_ownership = 0 (no file is touched; the hypervisor still runs
#               confined, as the caller)
# Reported: the supervisor's own measure of the relabelling step, read from each labelled start's log line
# ("relabelled N file label(s) in X ms"), and the median `virtsh start` wall time of each root (the difference
# of two ~30 ms medians on a 2-core host carries more noise than the step itself). Every start is destroyed
# outside the timing; the files' labels and owners are checked to be back at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "security-start: needs root (chown, trusted.* attributes)" >&2; exit 1; }
runs="${1:-21}"
work="$(mktemp -d)"
labelled="kvm:///embed?root=$work/labelled"
unlabelled="kvm:///embed?root=$work/unlabelled"
cleanup() {
    "$virtsh" -q -c "$labelled" destroy bench >/dev/null 2>&1 || true
    "$virtsh" -q -c "$unlabelled" destroy bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
. benchmarks/guest/lib.sh
build_guest_tools
mkdir -p "$work/labelled/etc" "$work/unlabelled/etc" "$work/disks"
printf 'security_driver = "selinux"\nuser = "+64203"\n' >"$work/labelled/etc/kvm.conf"
printf 'security_driver = "none"\ndynamic_ownership = 0\n' >"$work/unlabelled/etc/kvm.conf"
disks=""
for target in vda vdb vdc vdd; do
    truncate -s 1M "$work/disks/$target.img"
    readonly=""
    [ "$target" = vdd ] && readonly="<readonly/>"
    disks+="<disk type='file' device='disk'><source file='$work/disks/$target.img'/>"
    disks+="<target dev='$target' bus='virtio'/>$readonly</disk>"
done
domain_xml bench | sed "s|<devices>|<devices>$disks|" >"$work/bench.xml"
"$virtsh" -q -c "$labelled" define "$work/bench.xml" >/dev/null
"$virtsh" -q -c "$unlabelled" define "$work/bench.xml" >/dev/null
owners_before="$(stat -c '%u:%g' "$work"/disks/* "$work/guest.elf" | tr '\n' ' ')"

start_ms() {
    local begin end
    begin=$(date +%s%N)
    "$virtsh" -q -c "$1" start bench >/dev/null
    end=$(date +%s%N)
    "$virtsh" -q -c "$1" destroy bench >/dev/null
    echo $(( (end - begin) / 1000 ))
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
with=() without=()
for run in $(seq 1 "$runs"); do
    with+=("$(start_ms "$labelled")")
    without+=("$(start_ms "$unlabelled")")
done
steps="$(sed -n 's/.*security: relabelled \([0-9]*\) file label(s) in \([0-9.]*\) ms.*/\1 \2/p' \
    "$work/labelled/log/bench.log")"
labels="$(echo "$steps" | head -1 | cut -d' ' -f1)"
echo "relabelling step in the supervisor ($labels file labels: 4 disks + kernel, SELinux and DAC; median of $runs):" \
    "$(echo "$steps" | cut -d' ' -f2 | median) ms (max $(echo "$steps" | cut -d' ' -f2 | sort -n | tail -1) ms)"
echo "virtsh start, labelled (median of $runs): $(printf '%s\n' "${with[@]}" | median | us_to_ms) ms"
echo "virtsh start, unlabelled (median of $runs): $(printf '%s\n' "${without[@]}" | median | us_to_ms) ms"
owners_after="$(stat -c '%u:%g' "$work"/disks/* "$work/guest.elf" | tr '\n' ' ')"
[ "$owners_before" = "$owners_after" ] || { echo "owners not restored: $owners_after" >&2; exit 1; }
echo "owners restored after every run: $owners_after"
