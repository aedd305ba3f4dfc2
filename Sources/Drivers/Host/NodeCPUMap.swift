import VirtBase

/// What `virsh nodecpumap` shows: how many CPUs the map spans, how many are online, and which.
public struct NodeCPUMap: Sendable, Equatable, Codable {
    /// The map's length: the highest present CPU number plus one (libvirt's `virHostCPUGetCount`).
    public var present: Int
    /// How many CPUs are online.
    public var online: Int
    /// The online CPUs.
    public var map: CPUSet

    /// The map of `topology`.
    public init(_ topology: HostTopology) {
        present = (topology.present.max ?? -1) + 1
        map = topology.online.intersection(CPUSet(0..<present))
        online = map.count
    }

    /// The text `virsh nodecpumap` prints (`--pretty`: the list form instead of `y`/`-`), ending in a newline.
    public func virshText(pretty: Bool = false) -> String {
        VirshText.field("CPUs present:", "\(present)", width: 15) + "\n"
            + VirshText.field("CPUs online:", "\(online)", width: 15) + "\n"
            + VirshText.field("CPU map:", pretty ? map.description : map.map(total: present), width: 15) + "\n"
    }
}
