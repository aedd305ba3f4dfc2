# Shared by the guest benchmarks (sourced, not run): builds the release binaries, the one-byte PVH guest
# (guest/firstbyte.S) and the `firstbyte` timer (guest/firstbyte.c) into $work, and offers small helpers.
# The caller sets `work` (a temp dir it removes) and runs from the repository root.
build_guest_tools() {
    swift build -c release --product virt-kvm >/dev/null
    swift build -c release --product virtsh >/dev/null
    bin="$(swift build -c release --show-bin-path)"
    virtsh="$bin/virtsh"
    export SWIFT_VIRT_KVM="$bin/virt-kvm"
    gcc -m32 -ffreestanding -fno-pic -fno-stack-protector -nostdlib -static -Wl,-T,benchmarks/guest/guest.ld \
        -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o "$work/guest.elf" benchmarks/guest/firstbyte.S
    gcc -O2 -Wall -Werror -o "$work/firstbyte" benchmarks/guest/firstbyte.c
    uri="kvm:///embed?root=$work/root"
}

# The same command line the hypervisor tests use for QEMU microvm, with the guest's serial port on FILE.
qemu_command() {
    echo qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu kvm64 -nodefaults -no-reboot -nographic \
        -m 64 -serial "file:$1" -kernel "$work/guest.elf"
}

# domain_xml NAME [CONSOLE]: a 64 MiB, 1-vCPU domain running the benchmark guest; serial to CONSOLE when given.
domain_xml() {
    local serial=""
    [ -n "${2:-}" ] && serial="<serial type='file'><source path='$2'/><target port='0'/></serial>"
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$work/guest.elf</kernel></os>
  <devices>$serial</devices>
</domain>
XML
}

# median: the middle line of sorted numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# field NAME LINE: the value of NAME=... in a firstbyte result line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# us_to_ms: microseconds on stdin as milliseconds with one decimal.
us_to_ms() { awk '{ printf "%.1f\n", $1 / 1000 }'; }
