#!/usr/bin/env bash
# How long a running domain takes to hold its disk leases again after its lock daemon is killed (issue 5: "within
# 1 s"), whole processes, release build.
#
#   benchmarks/lease-recovery.sh [RUNS] [DISKS]      (defaults 11 and 4)
#
# One domain (the one-byte guest, which then halts and keeps running) with DISKS writable disks is started with
# `virtsh start`, so the supervisor holds a lease per disk through a `virtlockd` started on demand. Each run takes
# the daemon's pid from `<run>/lockd/virtlockd.pid`, kills it with SIGKILL (the kernel drops its locks), and
# polls `<run>/<name>.leases` (the supervisor's lease status, rewritten when anything changes) until it names a
# new daemon and every lease is held again. The time is counted from just before the kill. The supervisor's own
# figure (from noticing the hang-up to the leases back, daemon start included) is read from its log.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-11}"
disks="${2:-4}"
work="$(mktemp -d)"
cleanup() {
    "$virtsh" -q -c "$uri" destroy bench >/dev/null 2>&1 || true
    pid="$(cat "$work/root/run/lockd/virtlockd.pid" 2>/dev/null || true)"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
. benchmarks/guest/lib.sh
build_guest_tools
swift build -c release --product virtlockd >/dev/null
export SWIFT_VIRT_VIRTLOCKD="$bin/virtlockd"
devices="<serial type='file'><source path='$work/console'/><target port='0'/></serial>"
for index in $(seq 1 "$disks"); do
    truncate -s 1M "$work/disk$index.img"
    letter="$(printf "\\x$(printf '%x' $((97 + index)))")"
    devices="$devices<disk type='file' device='disk'><source file='$work/disk$index.img'/>"
    devices="$devices<target dev='vd$letter' bus='virtio'/></disk>"
done
cat >"$work/bench.xml" <<XML
<domain type='kvm'>
  <name>bench</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$work/guest.elf</kernel></os>
  <devices>$devices</devices>
</domain>
XML
"$virtsh" -q -c "$uri" define "$work/bench.xml" >/dev/null
"$virtsh" -q -c "$uri" start bench >/dev/null

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/root" bench "$runs" "$disks" <<'PY'
import json, os, re, signal, statistics, sys, time
root, name, runs, disks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
status_path = f"{root}/run/{name}.leases"
pid_path = f"{root}/run/lockd/virtlockd.pid"
log_path = f"{root}/log/{name}.log"

def status():
    try:
        with open(status_path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def all_held(state, daemon):
    return (state is not None and state.get("daemonPID") not in (None, daemon)
            and len(state["leases"]) == disks and all(e["state"] == "held" for e in state["leases"]))

ours, logged = [], []
for run in range(runs):
    deadline = time.monotonic() + 5
    while not all_held(status(), -1) and time.monotonic() < deadline:
        time.sleep(0.001)
    daemon = int(open(pid_path).read().strip())
    start = time.monotonic()
    os.kill(daemon, signal.SIGKILL)
    while True:
        state = status()
        if all_held(state, daemon):
            break
        if time.monotonic() - start > 10:
            sys.exit(f"run {run + 1}: leases not back within 10 s: {state}")
        time.sleep(0.0005)
    ours.append((time.monotonic() - start) * 1000)
    time.sleep(0.2)
    found = re.findall(r"took \d+ leases? back from the new lock daemon \(pid \d+\) in (\d+) ms",
                       open(log_path).read())
    logged.append(float(found[-1]) if found else float("nan"))
print(f"kill -9 of virtlockd -> all {disks} leases held again (median of {runs}): "
      f"{statistics.median(ours):.1f} ms  [goal <= 1000 ms]")
print("  all runs (ms): " + " ".join(f"{t:.1f}" for t in ours))
print(f"supervisor's own figure from its log (median): {statistics.median(logged):.0f} ms; "
      "all: " + " ".join(f"{t:.0f}" for t in logged))
PY
