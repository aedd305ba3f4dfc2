"""Memory of processes beyond their guest RAM, from /proc/PID/smaps (used by guest-memory.sh).

    python3 memory.py GUEST_RAM_KIB PID [PID...]

For each pid prints `pid=N rss_kib=N anon_kib=N guest_rss_kib=N guest_anon_kib=N`, where rss and anon are
the process totals minus the mappings that hold guest RAM: anonymous or memfd mappings at least
GUEST_RAM_KIB large (QEMU reserves a little more than the RAM size for alignment). The guest figures are
those mappings' own (what the guest touched)."""
import sys


def measure(pid, guest_kib):
    totals = {"Rss": 0, "Anonymous": 0}
    guest = {"Rss": 0, "Anonymous": 0}
    size, target, name = 0, totals, ""
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                low, high = (int(x, 16) for x in fields[0].split("-"))
                size = (high - low) // 1024
                name = fields[5] if len(fields) > 5 else ""
                is_ram = size >= guest_kib and (name == "" or name.startswith("/memfd:"))
                target = guest if is_ram else totals
            elif fields[0] in ("Rss:", "Anonymous:"):
                target[fields[0][:-1]] += int(fields[1])
    return totals, guest


guest_kib = int(sys.argv[1])
for pid in sys.argv[2:]:
    totals, guest = measure(pid, guest_kib)
    print(f"pid={pid} rss_kib={totals['Rss']} anon_kib={totals['Anonymous']} "
          f"guest_rss_kib={guest['Rss']} guest_anon_kib={guest['Anonymous']}")
