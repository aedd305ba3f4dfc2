import VirtBase

/// Checks of a domain's tuning against the host, for start-time validation; each error names what asked
/// (`what`, e.g. "vcpupin of vCPU 1"), what the host lacks and what it has.
extension HostTopology {
    /// Every CPU of `cpus` must be present and online.
    public func validateCPUs(_ cpus: CPUSet, for what: String) throws(VirtError) {
        let missing = cpus.subtracting(present)
        guard missing.isEmpty else {
            throw VirtError(.configUnsupported, .host,
                            "\(what) names CPU(s) '\(missing)' that this host does not have (present: \(present))")
        }
        let offline = cpus.subtracting(online)
        guard offline.isEmpty else {
            throw VirtError(.configUnsupported, .host,
                            "\(what) names CPU(s) '\(offline)' that are offline (online: \(online))")
        }
    }

    /// Every node of `nodeset` must exist.
    public func validateNodeset(_ nodeset: CPUSet, for what: String) throws(VirtError) {
        let missing = nodeset.subtracting(nodeIDs)
        guard missing.isEmpty else {
            throw VirtError(.configUnsupported, .host,
                            "\(what) names NUMA node(s) '\(missing)' that this host does not have (nodes: \(nodeIDs))")
        }
    }

    /// `sizeKiB` must be a huge page size of the host and, when `nodeset` is given, have a pool on each of those
    /// nodes.
    public func validateHugePageSize(_ sizeKiB: UInt64, nodeset: CPUSet? = nil, for what: String) throws(VirtError) {
        let sizes = hostHugePages.map(\.sizeKiB)
        guard sizes.contains(sizeKiB) else {
            let offered = sizes.isEmpty ? "none" : sizes.map(String.init).joined(separator: ", ") + " KiB"
            throw VirtError(.configUnsupported, .host,
                            "\(what) asks for \(sizeKiB) KiB pages, which this host does not offer "
                                + "(huge page sizes: \(offered))")
        }
        guard let nodeset, hasNUMA else { return }
        try validateNodeset(nodeset, for: what)
        for id in nodeset.members where node(id)?.pool(sizeKiB: sizeKiB) == nil {
            throw VirtError(.configUnsupported, .host,
                            "\(what) asks for \(sizeKiB) KiB pages on NUMA node \(id), which has no such pool "
                                + "(a node without memory)")
        }
    }

    /// There must be `count` free pages of `sizeKiB` on `node` (nil: host-wide); the error gives the numbers and
    /// the `allocpages` command that would make room.
    public func requireFreeHugePages(_ count: UInt64, sizeKiB: UInt64, node: Int?, for what: String)
        throws(VirtError)
    {
        let free = try freePages(cell: hasNUMA ? node : nil, sizeKiB: sizeKiB)
        guard free < count else { return }
        let place = node.map { "NUMA node \($0)" } ?? "this host"
        let cell = node.map { " --cellno \($0)" } ?? ""
        throw VirtError(.operationFailed, .host,
                        "\(what) needs \(count) free \(sizeKiB) KiB huge pages on \(place), but only \(free) are "
                            + "free; add pages with 'virtsh allocpages \(sizeKiB) \(count - free)\(cell) --add'")
    }
}
