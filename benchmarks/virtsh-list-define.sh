#!/usr/bin/env bash
# virtsh at scale: defining 1,000 domains in one batch invocation, then `virtsh list --all` over them, on a
# kvm:///embed store (SQLite); and the same work through virsh 9.0's test:///default driver where installed.
#
#   benchmarks/virtsh-list-define.sh [COUNT]      (default 1000; goals: define <= 3 s, list <= 30 ms wall)
#
# Builds virtsh in release mode. Wall times come from `date +%s%N` around whole processes; the in-process
# time of one `list --all` comes from virsh's and virtsh's own `-t` timing line.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"
swift build -c release --product virtsh >/dev/null
virtsh="$(swift build -c release --show-bin-path)/virtsh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A typical small domain: memory, vCPUs, os, one disk, a serial console.
for i in $(seq 1 "$count"); do
    name="$(printf 'bench%04d' "$i")"
    cat >"$work/$name.xml" <<XML
<domain type='TYPE'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel><cmdline>console=ttyS0</cmdline></os>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/images/$name.img'/><target dev='vda' bus='virtio'/></disk>
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
XML
done
kvm_commands="$work/kvm.commands"
test_commands="$work/test.commands"
for f in "$work"/bench*.xml; do
    sed 's/TYPE/kvm/' "$f" >"${f%.xml}.kvm.xml"
    sed 's/TYPE/test/' "$f" >"${f%.xml}.test.xml"
    echo "define ${f%.xml}.kvm.xml" >>"$kvm_commands"
    echo "define ${f%.xml}.test.xml" >>"$test_commands"
done

ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | sed -n "$(( ($1 + 1) / 2 ))p"; }

uri="kvm:///embed?root=$work/root"
start=$(date +%s%N)
"$virtsh" -q -c "$uri" <"$kvm_commands" >/dev/null
end=$(date +%s%N)
echo "virtsh define x$count (kvm:///embed, one batch): $(ms "$start" "$end") ms"

listed="$("$virtsh" -q -c "$uri" list --all --name | wc -l)"
[ "$listed" -eq "$count" ] || { echo "expected $count domains, virtsh lists $listed" >&2; exit 1; }
walls=()
for run in 1 2 3 4 5 6 7; do
    start=$(date +%s%N)
    "$virtsh" -c "$uri" list --all >/dev/null
    end=$(date +%s%N)
    walls+=("$(ms "$start" "$end")")
done
echo "virtsh list --all x$count (kvm:///embed, wall, median of 7): $(printf '%s\n' "${walls[@]}" | median 7) ms"

# In-process comparison on the test drivers: one process defines everything, then times one `list --all`.
inprocess() {
    local tool="$1"
    { cat "$test_commands"; echo "list --all"; } | tr '\n' ';' >"$work/string"
    "$tool" -q -t -c test:///default "$(cat "$work/string")" 2>/dev/null | grep '(Time:' | tail -1 | tr -d '()'
}
echo "virtsh list --all x$count (test:///default, in process): $(inprocess "$virtsh")"
if command -v virsh >/dev/null; then
    start=$(date +%s%N)
    virsh -q -c test:///default "$(tr '\n' ';' <"$test_commands")" >/dev/null 2>&1
    end=$(date +%s%N)
    echo "virsh define x$count (test:///default, one batch): $(ms "$start" "$end") ms"
    echo "virsh list --all x$count (test:///default, in process): $(inprocess virsh)"
else
    echo "virsh not installed (Debian: libvirt-clients): no comparison"
fi
