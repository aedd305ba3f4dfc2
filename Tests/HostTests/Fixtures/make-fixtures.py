#!/usr/bin/env python3
"""Writes the fake sysfs/procfs trees beside this script (Tests/HostTests/Fixtures/) that HostTests read.

Run from anywhere: `python3 Tests/HostTests/Fixtures/make-fixtures.py`. The output is committed together with
this script; rerun it after changing a tree and commit both. Every tree holds only the files the Host module reads, laid out
as Linux lays them out (x86: an offline CPU has no topology directory and leaves its node's cpulist).

Trees:
  one-node    1 node, 4 CPUs (2 cores x 2 SMT threads), 2 MiB and 1 GiB pools
  two-node    2 nodes x 8 CPUs (4 cores x 2 threads, siblings n and n+8), symmetric distances 10/21
  four-node   4 nodes (sub-NUMA clusters: 2 per socket, one die each), CPU 5 offline, asymmetric distances
  eight-node  8 nodes: node 6 has CPUs but no memory, node 7 memory but no CPUs; CPU 27 offline;
              uneven, so nodeinfo falls back to libvirt's flat topology
  no-numa     no /sys/devices/system/node, no cpu/online list: 2 CPUs, host-wide pools only, aarch64
              cpuinfo without a clock
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE
GIB_2M = 2048
GIB_1G = 1048576


def put(root, path, text):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def cpulist(ids):
    """The kernel's list format: ascending ranges."""
    ids = sorted(ids)
    parts, start, prev = [], None, None
    for i in ids:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = i
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def meminfo(prefix, fields):
    lines = []
    for key, value in fields:
        label = f"{key}:"
        if key.startswith("HugePages_"):
            lines.append(f"{prefix}{label:<16}{value:>8}")
        else:
            lines.append(f"{prefix}{label:<16}{value:>8} kB")
    return "\n".join(lines) + "\n"


def pools(root, directory, table, host=False):
    for size, (nr, free, surplus) in table.items():
        d = f"{directory}/hugepages-{size}kB"
        put(root, f"{d}/nr_hugepages", f"{nr}\n")
        put(root, f"{d}/free_hugepages", f"{free}\n")
        put(root, f"{d}/surplus_hugepages", f"{surplus}\n")
        if host:
            put(root, f"{d}/resv_hugepages", "0\n")
            put(root, f"{d}/nr_overcommit_hugepages", "0\n")


def build(name, *, cpus, present, online, possible, nodes, host_pools, host_mem, arch, cpuinfo):
    """cpus: {id: (socket, die, core, siblings) or None}; nodes: list of dicts or None (no NUMA)."""
    root = os.path.join(OUT, name)
    shutil.rmtree(root, ignore_errors=True)
    base = "/sys/devices/system/cpu"
    put(root, f"{base}/present", cpulist(present) + "\n")
    put(root, f"{base}/online", cpulist(online) + "\n")
    put(root, f"{base}/possible", cpulist(possible) + "\n")
    put(root, f"{base}/kernel_max", "8191\n")
    for cpu in present:
        if cpu != 0:
            put(root, f"{base}/cpu{cpu}/online", "1\n" if cpu in online else "0\n")
        topo = cpus.get(cpu)
        if topo is None:
            continue
        socket, die, core, siblings = topo
        t = f"{base}/cpu{cpu}/topology"
        put(root, f"{t}/physical_package_id", f"{socket}\n")
        put(root, f"{t}/die_id", f"{die}\n")
        put(root, f"{t}/core_id", f"{core}\n")
        put(root, f"{t}/thread_siblings_list", cpulist(siblings) + "\n")
    if nodes is not None:
        ids = [n["id"] for n in nodes]
        put(root, "/sys/devices/system/node/online", cpulist(ids) + "\n")
        put(root, "/sys/devices/system/node/possible", cpulist(ids) + "\n")
        put(root, "/sys/devices/system/node/has_cpu", cpulist([n["id"] for n in nodes if n["cpus"]]) + "\n")
        put(root, "/sys/devices/system/node/has_memory",
            cpulist([n["id"] for n in nodes if n["total"]]) + "\n")
        for n in nodes:
            d = f"/sys/devices/system/node/node{n['id']}"
            put(root, f"{d}/cpulist", cpulist(n["cpus"]) + "\n")
            put(root, f"{d}/distance", " ".join(str(v) for v in n["distance"]) + "\n")
            hp = n["pools"].get(GIB_2M, (0, 0, 0))
            put(root, f"{d}/meminfo", meminfo(f"Node {n['id']} ", [
                ("MemTotal", n["total"]), ("MemFree", n["free"]), ("MemUsed", n["total"] - n["free"]),
                ("SwapCached", 0), ("Active", (n["total"] - n["free"]) // 2), ("FilePages", n["total"] // 64),
                ("HugePages_Total", hp[0]), ("HugePages_Free", hp[1]), ("HugePages_Surp", hp[2])]))
            if n["pools"]:
                pools(root, f"{d}/hugepages", n["pools"])
    pools(root, "/sys/kernel/mm/hugepages", host_pools, host=True)
    total, free = host_mem
    put(root, "/proc/meminfo", meminfo("", [
        ("MemTotal", total), ("MemFree", free), ("MemAvailable", free + total // 16), ("Buffers", total // 512),
        ("Cached", total // 32), ("SwapCached", 0), ("HugePages_Total", host_pools.get(GIB_2M, (0, 0, 0))[0]),
        ("HugePages_Free", host_pools.get(GIB_2M, (0, 0, 0))[1]), ("Hugepagesize", GIB_2M)]))
    put(root, "/proc/cpuinfo", cpuinfo)
    put(root, "/proc/sys/kernel/arch", arch + "\n")


def x86_cpuinfo(online, model, mhz, topo):
    blocks = []
    for cpu in online:
        socket, _, core, _ = topo[cpu]
        blocks.append(
            f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\nmodel name\t: {model}\ncpu MHz\t\t: {mhz}\n"
            f"physical id\t: {socket}\ncore id\t\t: {core}\nflags\t\t: fpu vme de pse tsc msr pae\n")
    return "\n".join(blocks) + "\n"


def pools_sum(nodes):
    total = {}
    for n in nodes:
        for size, (nr, free, surplus) in n["pools"].items():
            t = total.get(size, (0, 0, 0))
            total[size] = (t[0] + nr, t[1] + free, t[2] + surplus)
    return total


def node(id, cpus, total, free, distance, pools):
    return dict(id=id, cpus=cpus, total=total, free=free, distance=distance, pools=pools)


def one_node():
    topo = {c: (0, 0, c % 2, [c % 2, c % 2 + 2]) for c in range(4)}
    nodes = [node(0, range(4), 8388608, 6291456, [10], {GIB_2M: (64, 60, 0), GIB_1G: (1, 1, 0)})]
    build("one-node", cpus=topo, present=range(4), online=range(4), possible=range(8), nodes=nodes,
          host_pools=pools_sum(nodes), host_mem=(8388608, 6291456), arch="x86_64",
          cpuinfo=x86_cpuinfo(range(4), "Fixture CPU @ 2.40GHz", "2400.000", topo))


def two_node():
    topo = {c: (c % 8 // 4, 0, c % 4, [c % 8, c % 8 + 8]) for c in range(16)}
    nodes = [
        node(0, [0, 1, 2, 3, 8, 9, 10, 11], 16777216, 12582912, [10, 21], {GIB_2M: (512, 500, 0), GIB_1G: (2, 1, 0)}),
        node(1, [4, 5, 6, 7, 12, 13, 14, 15], 16777216, 8388608, [21, 10], {GIB_2M: (0, 0, 0), GIB_1G: (4, 4, 0)}),
    ]
    build("two-node", cpus=topo, present=range(16), online=range(16), possible=range(16), nodes=nodes,
          host_pools=pools_sum(nodes), host_mem=(33554432 + 4096, 20971520 + 1024), arch="x86_64",
          cpuinfo=x86_cpuinfo(range(16), "Fixture Xeon @ 2.10GHz", "2100.000", topo))


def four_node():
    offline = {5}
    topo = {c: (c // 8, c // 4 % 2, c % 8, [c]) for c in range(16) if c not in offline}
    distance = [[10, 12, 20, 22], [12, 10, 22, 20], [20, 22, 10, 12], [24, 20, 12, 10]]
    node_pools = [{GIB_2M: (128, 128, 0), GIB_1G: (1, 0, 0)}, {GIB_2M: (64, 32, 0), GIB_1G: (0, 0, 0)},
                  {GIB_2M: (0, 0, 0), GIB_1G: (0, 0, 0)}, {GIB_2M: (16, 0, 2), GIB_1G: (0, 0, 0)}]
    frees = [3145728, 2097152, 4000000, 1048576]
    nodes = [node(n, [c for c in range(4 * n, 4 * n + 4) if c not in offline], 4194304, frees[n], distance[n],
                  node_pools[n]) for n in range(4)]
    online = [c for c in range(16) if c not in offline]
    build("four-node", cpus=topo, present=range(16), online=online, possible=range(16), nodes=nodes,
          host_pools=pools_sum(nodes), host_mem=(4 * 4194304, sum(frees)), arch="x86_64",
          cpuinfo=x86_cpuinfo(online, "Fixture EPYC 16-Core", "3000.123", topo))


def eight_node():
    offline = {27}
    topo = {}
    for c in range(28):
        if c in offline:
            continue
        n = c // 4
        first = c - c % 2
        siblings = [s for s in (first, first + 1) if s not in offline]
        topo[c] = (0 if n < 4 else 1, n % 4 // 2, c % 16 // 2, siblings)
    def dist(a, b):
        if a == b:
            return 10
        if a == 7 or b == 7:
            return 40
        return 16 if (a < 4) == (b < 4) else 32
    nodes = []
    for n in range(8):
        cpus = [c for c in range(4 * n, 4 * n + 4) if c not in offline] if n < 7 else []
        if n < 6:
            total, free, p = 2097152, 1048576 + 4096 * n, {GIB_2M: (32, 16, 0), GIB_1G: (0, 0, 0)}
        elif n == 6:
            total, free, p = 0, 0, {}
        else:
            total, free, p = 8388608, 4194304, {GIB_2M: (1024, 1024, 0), GIB_1G: (4, 2, 0)}
        nodes.append(node(n, cpus, total, free, [dist(n, m) for m in range(8)], p))
    online = [c for c in range(28) if c not in offline]
    build("eight-node", cpus=topo, present=range(28), online=online, possible=range(32), nodes=nodes,
          host_pools=pools_sum(nodes), host_mem=(sum(n["total"] for n in nodes), sum(n["free"] for n in nodes)),
          arch="x86_64", cpuinfo=x86_cpuinfo(online, "Fixture Xeon Max", "1900.000", topo))


def no_numa():
    topo = {0: (0, 0, 0, [0]), 1: (0, 0, 1, [1])}
    cpuinfo = "".join(f"processor\t: {c}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n"
                      f"CPU part\t: 0xd0c\n\n" for c in range(2))
    build("no-numa", cpus=topo, present=range(2), online=range(2), possible=range(2), nodes=None,
          host_pools={GIB_2M: (8, 6, 0), GIB_1G: (0, 0, 0)}, host_mem=(4194304, 3145728), arch="aarch64",
          cpuinfo=cpuinfo)
    # No cpu/online list: the per-CPU online files decide (cpu0 has none and is always online).
    os.remove(os.path.join(OUT, "no-numa", "sys/devices/system/cpu/online"))


if __name__ == "__main__":
    one_node()
    two_node()
    four_node()
    eight_node()
    no_numa()
