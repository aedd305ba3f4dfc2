import CVirtShims
import Glibc
import VirtBase

/// NUMA memory policy of a range of memory (`mbind(2)`), as `<numatune>` asks: strict → bind, preferred,
/// interleave; restrictive leaves the default policy and relies on the cgroup's `cpuset.mems`.
public enum MemoryPolicy {
    /// The policy modes of `<linux/mempolicy.h>`.
    public enum Mode: Int32, Sendable, Codable, CaseIterable {
        /// The process default (local allocation unless the task policy says otherwise).
        case `default` = 0
        /// Allocate on the first node of the set while it has memory, then elsewhere.
        case preferred = 1
        /// Allocate only on the set's nodes (`strict`).
        case bind = 2
        /// Spread pages round-robin over the set's nodes.
        case interleave = 3
        /// Allocate on the node of the CPU that touches the page.
        case local = 4

        /// The word `/proc/PID/numa_maps` shows for the mode.
        public var numaMapsName: String {
            switch self {
            case .default: "default"
            case .preferred: "prefer"
            case .bind: "bind"
            case .interleave: "interleave"
            case .local: "local"
            }
        }
    }

    /// The node mask width passed to the kernel: 1024 nodes, the kernel's largest `MAX_NUMNODES` (`NODES_SHIFT`
    /// 10); a narrower mask than the kernel's makes `get_mempolicy` fail with `EINVAL`.
    static let maskBits = 1024
    static let wordBits = UInt64.bitWidth
    /// The mode bits of a policy word; the bits above are flags (`MPOL_F_STATIC_NODES` = 1 << 15,
    /// `MPOL_F_RELATIVE_NODES` = 1 << 14, `MPOL_F_NUMA_BALANCING` = 1 << 13) per `<linux/mempolicy.h>`.
    static let modeMask: Int32 = (1 << 8) - 1

    /// Applies `mode` over `nodes` to `[address, address + length)` (page aligned). With `move`, pages already
    /// placed elsewhere are migrated (`MPOL_MF_MOVE`) and a page that cannot move fails the call
    /// (`MPOL_MF_STRICT`).
    public static func apply(_ mode: Mode, nodes: CPUSet, address: UnsafeMutableRawPointer, length: Int,
                             move: Bool = false) throws(VirtError) {
        if mode == .bind || mode == .interleave {
            guard !nodes.isEmpty else {
                throw VirtError(.invalidArgument, .host, "NUMA memory mode '\(mode.numaMapsName)' needs a nodeset")
            }
        }
        guard (nodes.max ?? 0) < maskBits else {
            throw VirtError(.invalidArgument, .host, "NUMA node \(nodes.max ?? 0) is beyond the kernel's limit")
        }
        var mask = [UInt](repeating: 0, count: maskBits / wordBits)
        for node in nodes.members { mask[node / wordBits] |= 1 << UInt(node % wordBits) }
        let flags = move ? UInt32(CVIRT_MPOL_MF_MOVE | CVIRT_MPOL_MF_STRICT) : 0
        let rc = mask.withUnsafeBufferPointer {
            cvirt_mbind(address, UInt(length), mode.rawValue, $0.baseAddress, UInt(maskBits + 1), flags)
        }
        guard rc == 0 else {
            throw VirtError(.systemError, .host,
                            "cannot set NUMA memory policy '\(mode.numaMapsName)' on nodes '\(nodes)' for "
                                + "\(length) bytes at \(address): \(String(cString: strerror(-rc)))", errno: -rc)
        }
    }

    /// The policy of the page at `address` (`get_mempolicy(2)` with `MPOL_F_ADDR`).
    public static func policy(at address: UnsafeMutableRawPointer) throws(VirtError) -> (mode: Mode, nodes: CPUSet) {
        var mask = [UInt](repeating: 0, count: maskBits / wordBits)
        var rawMode: Int32 = 0
        let rc = mask.withUnsafeMutableBufferPointer {
            cvirt_get_mempolicy_addr(address, &rawMode, $0.baseAddress, UInt(maskBits))
        }
        guard rc == 0 else {
            throw VirtError(.systemError, .host, "cannot read the NUMA memory policy at \(address): "
                                + String(cString: strerror(-rc)), errno: -rc)
        }
        guard let mode = Mode(rawValue: rawMode & modeMask) else {
            throw VirtError(.internalError, .host, "unknown NUMA memory policy mode \(rawMode) at \(address)")
        }
        var nodes = CPUSet()
        for bit in 0..<maskBits where mask[bit / wordBits] & (1 << UInt(bit % wordBits)) != 0 { nodes.insert(bit) }
        return (mode, nodes)
    }
}
