#!/usr/bin/env bash
# Opt-in slow check (`make test-linux`): boot Debian's stock cloud kernel on swift-virt's own hypervisor.
#
#   1. PVH: extract the uncompressed ELF from the bzImage (this script does it, not the hypervisor), boot it
#      through its Xen PVH entry with a busybox initramfs. PASS needs the kernel banner ("Linux version");
#      the init script's marker is best-effort (guest code is emulated ~1000x slower on these hosts).
#   2. bzImage: boot the compressed kernel through the Linux 64-bit boot protocol. PASS needs the
#      decompressor's own console output (see BZIMAGE_PATTERN below).
#
# Needs root (apt-get download, /dev/kvm) and network access to Debian's archive.
# Environment: BIN (directory with virtsh and virt-kvm, default .build/release), BANNER_TIMEOUT (s, 180),
# INIT_TIMEOUT (s, 1200; 0 skips waiting for init), BZIMAGE_TIMEOUT (s, 180), MEMORY_MIB (512),
# BZIMAGE_BANNER_TIMEOUT (s, 300; 0 skips: after the decompressor, wait for the banner, best effort),
# DISABLE_FEATURES ('cx16 xsave'), SKIP_PVH=1, SKIP_BZIMAGE=1, KEEP_WORK=1 (keep the work dir for inspection).
set -euo pipefail

BIN=${BIN:-.build/release}
BIN=$(cd "$BIN" && pwd)
BANNER_TIMEOUT=${BANNER_TIMEOUT:-180}
INIT_TIMEOUT=${INIT_TIMEOUT:-1200}
BZIMAGE_TIMEOUT=${BZIMAGE_TIMEOUT:-180}
BZIMAGE_BANNER_TIMEOUT=${BZIMAGE_BANNER_TIMEOUT:-300}
MEMORY_MIB=${MEMORY_MIB:-512}
# CPUID features hidden from the guest: KVM's instruction emulator on these hosts cannot execute cmpxchg16b
# (CX16) nor xsave/xrstor (XSAVE; hiding it also hides OSXSAVE, AVX and the XSAVE extensions), see
# docs/hypervisor.md. Names are libvirt's.
DISABLE_FEATURES=${DISABLE_FEATURES:-cx16 xsave}
PROGRESS_EVERY=15
INIT_MARKER=SWIFT-VIRT-INIT-OK
BANNER_PATTERN='Linux version '
# Debian's config has CONFIG_X86_VERBOSE_BOOTUP unset, so the decompressor's "Decompressing Linux..." is
# compiled out; its warn() still prints, and with 'nokaslr' on the command line choose_random_location()
# warns before decompressing. Either line (or the banner) proves the decompressor runs and drives the UART.
BZIMAGE_PATTERN="KASLR disabled: 'nokaslr' on cmdline|Decompressing Linux|Linux version "

# Kernel command line, shared by both boots:
#   console=ttyS0 earlyprintk=serial,ttyS0,115200  8250 console, plus the early console from setup_arch on
#   ignore_loglevel printk.time=1                   every message, with the kernel's own timestamps
#   panic=-1 reboot=k                               a panic resets at once (the domain ends), reboot via i8042
#   pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd   skip probes that cost emulated time
#   nokaslr                                         (bzImage) fixed load address, and the decompressor's warning
#   rdinit=/init                                    the busybox script in the initramfs
#   cryptomgr.notests no_timer_check tsc=reliable mitigations=off   avoid self tests and slow checks
#   noxsave                                         the kernel uses FXSAVE/FXRSTOR: this host's KVM emulator
#                                                   fails on XRSTOR, and it does not let the VMM hide XSAVE in
#                                                   CPUID (the <feature policy='disable' name='xsave'/> below
#                                                   is honoured on other hosts), see docs/hypervisor.md
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0,115200 ignore_loglevel printk.time=1 panic=-1 reboot=k"
CMDLINE+=" pci=off i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd nokaslr rdinit=/init"
CMDLINE+=" cryptomgr.notests no_timer_check tsc=reliable mitigations=off noxsave"

log() { printf '[test-linux %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "FAIL: $*"; exit 1; }

# The unpacking tools this check uses, installed from Debian when missing (the kernel payload may be any of
# these compressions).
packages=(cpio gzip lz4 xz-utils zstd binutils)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "cannot install ${missing[*]}; run 'apt-get update' first, or install them by hand"
fi
for tool in apt-get apt-cache dpkg-deb readelf od cpio gzip; do
    command -v "$tool" >/dev/null || die "'$tool' is missing; install it (Debian: apt-get install -y $tool)"
done
[[ -x $BIN/virtsh && -x $BIN/virt-kvm ]] || die "no virtsh/virt-kvm in $BIN; run 'make release' first"
[[ -r /dev/kvm && -w /dev/kvm ]] || die "/dev/kvm is not usable by $(id -un); run as root or join group kvm"

WORK=$(mktemp -d /tmp/swift-virt-linux.XXXXXX)
ROOT=$WORK/root
URI="kvm:///embed?root=$ROOT"
DOMAINS=()

virtsh() { "$BIN/virtsh" -c "$URI" "$@"; }

cleanup() {
    local status=$?
    for name in "${DOMAINS[@]}"; do
        virtsh destroy "$name" >/dev/null 2>&1 || true
        # Belt and braces: a hypervisor that outlived destroy is stopped through its pid file.
        if [[ -f $ROOT/run/$name.pid ]]; then
            local pid
            pid=$(<"$ROOT/run/$name.pid")
            [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null || true
        fi
        virtsh undefine "$name" >/dev/null 2>&1 || true
    done
    if [[ ${KEEP_WORK:-0} == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. Debian packages ---------------------------------------------------------------------------------
cd "$WORK"
meta=linux-image-cloud-amd64
image=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
[[ -n $image ]] || die "cannot resolve the versioned kernel package behind $meta (apt-get update?)"
log "downloading $image and busybox-static"
apt-get download "$image" busybox-static >/dev/null 2>&1 || die "apt-get download $image busybox-static failed"
dpkg-deb -x "$image"_*.deb pkg
dpkg-deb -x busybox-static_*.deb pkg
vmlinuz=$(ls pkg/boot/vmlinuz-*)
log "kernel: $(basename "$vmlinuz") ($(stat -c %s "$vmlinuz") bytes)"

# --- 2. Uncompressed ELF out of the bzImage -------------------------------------------------------------
# Boot protocol (Documentation/x86/boot.rst): setup_sects at 0x1f1 (0 means 4), "HdrS" at 0x202, version at
# 0x206, payload_offset/payload_length at 0x248/0x24c (protocol >= 2.08) relative to the protected-mode code,
# which starts at (setup_sects + 1) * 512.
u8()  { od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' '; }
u16() { od -An -t u2 -j "$2" -N 2 --endian=little "$1" | tr -d ' '; }
u32() { od -An -t u4 -j "$2" -N 4 --endian=little "$1" | tr -d ' '; }
[[ $(u32 "$vmlinuz" $((0x202))) == 1400005704 ]] || die "$vmlinuz has no 'HdrS' boot header"
version=$(u16 "$vmlinuz" $((0x206)))
((version >= 0x208)) || die "$vmlinuz: boot protocol $version is older than 2.08 (no payload fields)"
setup_sects=$(u8 "$vmlinuz" $((0x1f1)))
((setup_sects == 0)) && setup_sects=4
payload_start=$(((setup_sects + 1) * 512 + $(u32 "$vmlinuz" $((0x248)))))
payload_length=$(u32 "$vmlinuz" $((0x24c)))
magic=$(od -An -t x1 -j "$payload_start" -N 6 "$vmlinuz" | tr -d ' \n')
case $magic in
    fd377a585a00*) format=xz;   decompress=(xz -dc --single-stream) ;;
    1f8b*)         format=gzip; decompress=(gzip -dc) ;;
    28b52ffd*)     format=zstd; decompress=(zstd -dc) ;;
    02214c18*)     format=lz4;  decompress=(lz4 -dc) ;;  # legacy LZ4 frame (Debian's cloud kernel)
    *) die "payload at $payload_start starts with $magic: not XZ, gzip, zstd or LZ4" ;;
esac
command -v "${decompress[0]}" >/dev/null || die "'${decompress[0]}' is needed to unpack a $format payload"
log "payload: $format, $payload_length bytes at file offset $payload_start"
start=$SECONDS
# The payload ends with the kernel build's 4-byte little-endian size of the uncompressed image (size_append
# in scripts/Makefile.lib); gzip and lz4 complain about that trailer, so success is judged by the result: an
# ELF of exactly that size.
expected=$(u32 "$vmlinuz" $((payload_start + payload_length - 4)))
tail -c +$((payload_start + 1)) "$vmlinuz" | head -c "$payload_length" | "${decompress[@]}" >vmlinux 2>decompress.err || true
[[ $(od -An -t x1 -N 4 vmlinux | tr -d ' \n') == 7f454c46 ]] || die "decompressed payload is not an ELF: $(head -c 300 decompress.err)"
[[ $(stat -c %s vmlinux) == "$expected" ]] || die "decompressed $(stat -c %s vmlinux) bytes, the trailer says $expected"
log "vmlinux: $expected bytes, unpacked in $((SECONDS - start)) s"
# XEN_ELFNOTE_PHYS32_ENTRY is note type 18 (0x12) with owner "Xen"; binutils prints it as an unknown type.
pvh=$(readelf -n vmlinux | grep -A1 -E '^ +Xen +0x[0-9a-f]+[[:space:]]+Unknown note type: \(0x00000012\)' | sed -n 's/.*description data: //p')
[[ -n $pvh ]] || die "vmlinux has no Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY, type 18); the kernel needs CONFIG_PVH=y"
read -r -a entry <<<"$pvh"
log "PVH note: XEN_ELFNOTE_PHYS32_ENTRY = 0x${entry[3]}${entry[2]}${entry[1]}${entry[0]}"

# --- 3. initramfs: busybox and an /init that prints the marker and powers off -------------------------
mkdir -p initramfs/bin initramfs/dev initramfs/proc initramfs/sys
cp pkg/bin/busybox initramfs/bin/busybox
ln -s busybox initramfs/bin/sh
cat >initramfs/init <<EOF
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The kernel opens /dev/console for init; when that failed, take it from devtmpfs now.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "$INIT_MARKER \$(/bin/busybox uname -r) up \$(/bin/busybox cut -d' ' -f1 /proc/uptime) s"
/bin/busybox poweroff -f
EOF
chmod 755 initramfs/init
# /dev/console for the kernel's own open (needs root for mknod; the init script has the fallback above).
mknod -m 600 initramfs/dev/console c 5 1 2>/dev/null || true
(cd initramfs && find . | cpio -o -H newc --quiet) | gzip -9 >initrd.gz
log "initramfs: $(stat -c %s initrd.gz) bytes"

# --- 4. Domains --------------------------------------------------------------------------------------------
define_domain() { # name kernel console-log
    cat >"$1.xml" <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$MEMORY_MIB</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
    <kernel>$2</kernel>
    <initrd>$WORK/initrd.gz</initrd>
    <cmdline>$CMDLINE</cmdline>
  </os>
  <cpu>
$(for feature in $DISABLE_FEATURES; do echo "    <feature policy='disable' name='$feature'/>"; done)
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='$3'/><target port='0'/></serial>
  </devices>
</domain>
EOF
    virtsh define "$1.xml" >/dev/null
    DOMAINS+=("$1")
}

last_line() { tr -d '\r' <"$1" 2>/dev/null | grep -a . | tail -n1 | cut -c1-120; }

# wait_for LOG PATTERN TIMEOUT NAME T0: 0 when PATTERN appears, 1 on timeout, 2 when the domain ended.
wait_for() {
    local log=$1 pattern=$2 timeout=$3 name=$4 t0=$5 next=$((SECONDS + PROGRESS_EVERY))
    while true; do
        if grep -aqE "$pattern" "$log" 2>/dev/null; then return 0; fi
        if ((SECONDS - t0 >= timeout)); then return 1; fi
        if [[ $(virtsh domstate "$name" 2>/dev/null) != running* ]]; then
            grep -aqE "$pattern" "$log" 2>/dev/null && return 0
            return 2
        fi
        if ((SECONDS >= next)); then
            log "  $name +$((SECONDS - t0)) s, $(wc -c <"$log" 2>/dev/null || echo 0) bytes: $(last_line "$log")"
            next=$((SECONDS + PROGRESS_EVERY))
        fi
        sleep 1
    done
}

result=0
if [[ ${SKIP_PVH:-0} != 1 ]]; then
define_domain linux-pvh "$WORK/vmlinux" "$WORK/pvh.log"
log "PVH boot: starting linux-pvh ($MEMORY_MIB MiB, 1 vCPU)"
t0=$SECONDS
virtsh start linux-pvh >/dev/null
if wait_for pvh.log "$BANNER_PATTERN" "$BANNER_TIMEOUT" linux-pvh "$t0"; then
    log "PASS: kernel banner after $((SECONDS - t0)) s: $(grep -a -m1 "$BANNER_PATTERN" pvh.log | tr -d '\r' | cut -c1-160)"
    if ((INIT_TIMEOUT > 0)); then
        log "waiting up to $INIT_TIMEOUT s for '$INIT_MARKER' (best effort)"
        if wait_for pvh.log "$INIT_MARKER" "$INIT_TIMEOUT" linux-pvh "$t0"; then
            log "init reached after $((SECONDS - t0)) s: $(grep -a -m1 "$INIT_MARKER" pvh.log | tr -d '\r')"
        else
            log "init not reached (best effort) after $((SECONDS - t0)) s; domain $(virtsh domstate linux-pvh 2>/dev/null | head -n1)"
        fi
    fi
else
    log "FAIL: no kernel banner within $BANNER_TIMEOUT s (domain $(virtsh domstate linux-pvh --reason 2>/dev/null | head -n1))"
    result=1
fi
log "PVH console: $(wc -l <pvh.log) lines; last: $(last_line pvh.log)"
tail -n 5 "$ROOT/log/linux-pvh.log" 2>/dev/null | sed 's/^/    hypervisor: /' || true
virtsh destroy linux-pvh >/dev/null 2>&1 || true
fi

if [[ ${SKIP_BZIMAGE:-0} != 1 ]]; then
    define_domain linux-bzimage "$WORK/$vmlinuz" "$WORK/bzimage.log"
    log "bzImage boot: starting linux-bzimage"
    t0=$SECONDS
    virtsh start linux-bzimage >/dev/null
    if wait_for bzimage.log "$BZIMAGE_PATTERN" "$BZIMAGE_TIMEOUT" linux-bzimage "$t0"; then
        log "PASS: decompressor output after $((SECONDS - t0)) s: $(grep -a -m1 -E "$BZIMAGE_PATTERN" bzimage.log | tr -d '\r')"
        if ((BZIMAGE_BANNER_TIMEOUT > 0)); then
            log "waiting up to $BZIMAGE_BANNER_TIMEOUT s for the decompressed kernel's banner (best effort)"
            if wait_for bzimage.log "$BANNER_PATTERN" "$BZIMAGE_BANNER_TIMEOUT" linux-bzimage "$t0"; then
                log "bzImage kernel banner after $((SECONDS - t0)) s"
            else
                log "no banner from the bzImage (best effort) after $((SECONDS - t0)) s; last: $(last_line bzimage.log)"
            fi
        fi
    else
        log "FAIL: no decompressor output within $BZIMAGE_TIMEOUT s (domain $(virtsh domstate linux-bzimage --reason 2>/dev/null | head -n1))"
        result=1
    fi
    virtsh destroy linux-bzimage >/dev/null 2>&1 || true
fi

((result == 0)) && log "test-linux passed" || log "test-linux FAILED"
exit "$result"
