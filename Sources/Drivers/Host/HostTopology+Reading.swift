import Glibc
import VirtBase

/// The sysfs and procfs paths the probes read (host paths; `HostFileSystem` prefixes its root).
enum HostPaths {
    static let cpuDirectory = "/sys/devices/system/cpu"
    static let nodeDirectory = "/sys/devices/system/node"
    static let hostHugePages = "/sys/kernel/mm/hugepages"
    static let meminfo = "/proc/meminfo"
    static let cpuinfo = "/proc/cpuinfo"
    static let arch = "/proc/sys/kernel/arch"
    /// The directory name of a huge page pool: `hugepages-` + size + `kB`.
    static let hugePagePrefix = "hugepages-"
    static let hugePageSuffix = "kB"

    static func node(_ id: Int) -> String { "\(nodeDirectory)/node\(id)" }
    static func nodeHugePages(_ id: Int) -> String { "\(node(id))/hugepages" }
    static func cpu(_ id: Int) -> String { "\(cpuDirectory)/cpu\(id)" }
    /// The pool directory for `sizeKiB` under `hugePagesDirectory`.
    static func pool(_ hugePagesDirectory: String, sizeKiB: UInt64) -> String {
        "\(hugePagesDirectory)/\(hugePagePrefix)\(sizeKiB)\(hugePageSuffix)"
    }
}

extension HostTopology {
    /// Reads the host under `root` (default `/`). `systemPageSizeKiB` defaults to this process's page size, which
    /// sysfs does not publish; fixture trees of other architectures pass theirs.
    public static func read(root: String = "/", systemPageSizeKiB: UInt64? = nil) throws(VirtError) -> HostTopology {
        let fs = HostFileSystem(root: root)
        let pageKiB = systemPageSizeKiB ?? UInt64(sysconf(Int32(_SC_PAGESIZE)) / 1024)

        let cpuIDs = try fs.numberedEntries(HostPaths.cpuDirectory, prefix: "cpu")
        let present = try fs.readListIfPresent("\(HostPaths.cpuDirectory)/present") ?? CPUSet(cpuIDs)
        guard !present.isEmpty else {
            throw VirtError(.internalError, .host, "no CPUs found in '\(fs.resolve(HostPaths.cpuDirectory))'")
        }
        let online = try readOnline(fs, present: present)
        let possible = try fs.readListIfPresent("\(HostPaths.cpuDirectory)/possible") ?? present

        let hostMemory = try fs.readMemInfo(HostPaths.meminfo)
        let hostPools = try readPools(fs, directory: HostPaths.hostHugePages)

        var nodes: [NUMANode] = []
        let nodeIDs = try fs.numberedEntries(HostPaths.nodeDirectory, prefix: "node")
        for id in nodeIDs {
            nodes.append(try readNode(fs, id: id, allNodes: nodeIDs))
        }
        let hasNUMA = !nodes.isEmpty
        if !hasNUMA {
            let path = fs.resolve(HostPaths.meminfo)
            nodes = [NUMANode(id: 0, cpus: online, memoryKiB: try hostMemory.require("MemTotal", path: path),
                              freeKiB: try hostMemory.require("MemFree", path: path), distances: [],
                              hugePages: hostPools)]
        }

        var cpus: [HostCPU] = []
        for id in present.members {
            let node = nodes.first { $0.cpus.contains(id) }?.id
            cpus.append(HostCPU(id: id, online: online.contains(id), node: node, topology: try readCPUTopology(fs, id)))
        }

        let info = try readCPUInfo(fs)
        return HostTopology(root: fs.root, hasNUMA: hasNUMA, nodes: nodes, cpus: cpus, present: present,
                            online: online, possible: possible, hostHugePages: hostPools,
                            systemPageSizeKiB: pageKiB, arch: try readArch(fs), cpuModelName: info.model,
                            cpuMHz: info.mhz, hostMemory: hostMemory)
    }

    /// `online`, else each CPU's own `online` file (absent for a CPU that cannot go offline, as cpu0 often).
    private static func readOnline(_ fs: HostFileSystem, present: CPUSet) throws(VirtError) -> CPUSet {
        if let list = try fs.readListIfPresent("\(HostPaths.cpuDirectory)/online") { return list }
        var online = CPUSet()
        for id in present.members {
            let path = "\(HostPaths.cpu(id))/online"
            if !fs.exists(path) {
                online.insert(id)
            } else if try fs.readNumber(path) != 0 {
                online.insert(id)
            }
        }
        return online
    }

    private static func readNode(_ fs: HostFileSystem, id: Int, allNodes: [Int]) throws(VirtError) -> NUMANode {
        let directory = HostPaths.node(id)
        let cpus = try fs.readList("\(directory)/cpulist")
        let meminfoPath = "\(directory)/meminfo"
        let meminfo = try fs.readMemInfo(meminfoPath)
        let memory = try meminfo.require("MemTotal", path: fs.resolve(meminfoPath))
        let free = try meminfo.require("MemFree", path: fs.resolve(meminfoPath))

        var distances: [NUMANode.Distance] = []
        let distancePath = "\(directory)/distance"
        if let text = try fs.readIfPresent(distancePath) {
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            guard words.count == allNodes.count else {
                throw VirtError(.internalError, .host,
                                "cannot parse '\(fs.resolve(distancePath))': \(words.count) distances for "
                                    + "\(allNodes.count) nodes")
            }
            for (other, word) in zip(allNodes, words) {
                guard let value = Int(word), value >= 0 else {
                    throw VirtError(.internalError, .host,
                                    "cannot parse '\(fs.resolve(distancePath))': '\(word)' is not a distance")
                }
                distances.append(NUMANode.Distance(node: other, value: value))
            }
        }
        return NUMANode(id: id, cpus: cpus, memoryKiB: memory, freeKiB: free, distances: distances,
                        hugePages: try readPools(fs, directory: HostPaths.nodeHugePages(id)))
    }

    /// The pools under a `hugepages` directory; none when the directory is absent (no hugetlb, memoryless node).
    static func readPools(_ fs: HostFileSystem, directory: String) throws(VirtError) -> [HugePagePool] {
        guard let names = try fs.list(directory) else { return [] }
        var pools: [HugePagePool] = []
        for name in names where name.hasPrefix(HostPaths.hugePagePrefix) {
            let digits = name.dropFirst(HostPaths.hugePagePrefix.count)
            guard digits.hasSuffix(HostPaths.hugePageSuffix),
                  let size = UInt64(digits.dropLast(HostPaths.hugePageSuffix.count)), size > 0
            else {
                throw VirtError(.internalError, .host,
                                "cannot parse huge page pool '\(fs.resolve(directory))/\(name)': expected "
                                    + "'hugepages-<size>kB'")
            }
            let pool = "\(directory)/\(name)"
            let surplusPath = "\(pool)/surplus_hugepages"
            pools.append(HugePagePool(sizeKiB: size, total: try fs.readNumber("\(pool)/nr_hugepages"),
                                      free: try fs.readNumber("\(pool)/free_hugepages"),
                                      surplus: fs.exists(surplusPath) ? try fs.readNumber(surplusPath) : 0))
        }
        return pools.sorted { $0.sizeKiB < $1.sizeKiB }
    }

    /// A CPU's topology; nil without a `topology` directory. Missing ids read as 0 and missing siblings as the
    /// CPU alone, as libvirt reads them.
    private static func readCPUTopology(_ fs: HostFileSystem, _ id: Int) throws(VirtError) -> HostCPU.Topology? {
        let directory = "\(HostPaths.cpu(id))/topology"
        guard fs.isDirectory(directory) else { return nil }
        func number(_ name: String) throws(VirtError) -> Int {
            let path = "\(directory)/\(name)"
            guard fs.exists(path) else { return 0 }
            return Swift.max(try fs.readSignedNumber(path), 0)
        }
        let siblings = try fs.readListIfPresent("\(directory)/thread_siblings_list") ?? CPUSet([id])
        return HostCPU.Topology(socket: try number("physical_package_id"), die: try number("die_id"),
                                core: try number("core_id"), siblings: siblings)
    }

    /// The model name and clock from `/proc/cpuinfo` (the last `cpu MHz` line wins, as in libvirt).
    private static func readCPUInfo(_ fs: HostFileSystem) throws(VirtError) -> (model: String?, mhz: Int) {
        var model: String?
        var mhz = 0
        for line in try fs.read(HostPaths.cpuinfo).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon]).trimmingSpaces
            let value = String(line[line.index(after: colon)...]).trimmingSpaces
            switch key {
            case "model name":
                if model == nil && !value.isEmpty { model = value }
            case "cpu MHz", "clock":
                let whole = value.prefix { $0.isASCII && $0.isNumber }
                guard let number = Int(whole) else {
                    throw VirtError(.internalError, .host,
                                    "cannot parse '\(fs.resolve(HostPaths.cpuinfo))': '\(key)' is '\(value)'")
                }
                mhz = number
            default:
                continue
            }
        }
        return (model, mhz)
    }

    private static func readArch(_ fs: HostFileSystem) throws(VirtError) -> String {
        if let text = try fs.readIfPresent(HostPaths.arch), !text.trimmingSpaces.isEmpty { return text.trimmingSpaces }
        var name = utsname()
        guard uname(&name) == 0 else { throw HostFileSystem.systemError("uname failed", errno) }
        return withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
