#!/usr/bin/env bash
# `make demo`: define and start a real guest on the embedded KVM hypervisor and show its console; where
# /dev/kvm cannot be used, say why and tour test:///default and a kvm:///embed store instead.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.build/release}"
virtsh="$BIN/virtsh"
root="$PWD/.demo"
uri="kvm:///embed?root=$root"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "virtsh $*"; "$virtsh" "$@"; }

[ -x "$virtsh" ] || { echo "demo: $virtsh is missing; run 'make demo' (it builds first)" >&2; exit 1; }

tour_without_kvm() {
    echo "demo: $1 — touring the test driver and a definitions-only kvm:// store instead."
    run -c test:///default list --all
    run -c test:///default dominfo test
    run -c test:///default nodeinfo
    run -c test:///default 'suspend test; domstate test --reason; resume test; domstate test --reason'
    sed -e "s|KERNEL|/boot/vmlinuz|" -e "s|LOG|$root/demo-console.log|" examples/demo.xml >"$root/demo.xml"
    run -c "$uri" define "$root/demo.xml"
    run -c "$uri" list --all
    run -c "$uri" dumpxml demo
}

mkdir -p "$root"
# A previous demo's domain is stopped and removed so every run starts the same way.
"$virtsh" -q -c "$uri" destroy demo >/dev/null 2>&1 || true
"$virtsh" -q -c "$uri" undefine demo >/dev/null 2>&1 || true

if [ ! -e /dev/kvm ]; then
    tour_without_kvm "/dev/kvm does not exist (load kvm_intel or kvm_amd, or enable virtualization)"
    exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    tour_without_kvm "$(id -un) may not open /dev/kvm (add the user to group 'kvm')"
    exit 0
fi
if ! echo 'int main(void){return 0;}' | gcc -m32 -x c -o /dev/null - 2>/dev/null; then
    tour_without_kvm "gcc cannot build 32-bit code for the demo guest (apt-get install gcc-multilib)"
    exit 0
fi

# The guest: a freestanding PVH program built with the system compiler.
guests=Tests/KVMTests/Guests
kernel="$root/demo-guest.elf"
gcc -m32 -ffreestanding -fno-pic -fno-stack-protector -nostdlib -static -O1 -I"$guests" \
    -Wl,-T,"$guests/guest.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
    -o "$kernel" "$guests/start.S" examples/demo-guest.c
log="$root/demo-console.log"
sed -e "s|KERNEL|$kernel|" -e "s|LOG|$log|" examples/demo.xml >"$root/demo.xml"

run -c "$uri" define "$root/demo.xml"
say "virtsh start demo"
started=$(date +%s%N)
"$virtsh" -c "$uri" start demo
echo "(virtsh start returned after $(( ($(date +%s%N) - started) / 1000000 )) ms)"
run -c "$uri" list --all
run -c "$uri" dominfo demo
say "virtsh dumpxml demo | grep -A3 '<serial'   # the live XML names the console's pty"
"$virtsh" -c "$uri" dumpxml demo | grep -A3 '<serial'

say "the guest's console (its <log> file), for two seconds"
sleep 2
cat "$log"

run -c "$uri" suspend demo
before=$(wc -l <"$log")
sleep 1
echo "(console lines while paused: $before before, $(wc -l <"$log") after a second)"
run -c "$uri" 'resume demo; domstate demo --reason'
sleep 1
say "tail -3 of the console after resume"
tail -3 "$log"

run -c "$uri" shutdown demo
for _ in $(seq 1 50); do
    state=$("$virtsh" -q -c "$uri" domstate demo)
    [ "$state" = "shut off" ] && break
    sleep 0.1
done
run -c "$uri" 'domstate demo --reason; list --all'
say "tail -2 of the console"
tail -2 "$log"
cat <<TEXT

The domain stays defined in $root. Try it by hand:
  $virtsh -c '$uri' start demo --console     (Ctrl+] detaches)
  $virtsh -c '$uri'                          (the interactive shell)
TEXT
