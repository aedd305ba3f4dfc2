import Host
import VirtBase

extension GuestMemory {
    /// Sets the NUMA policy of the whole guest RAM mapping with `mbind(2)` (Host's `MemoryPolicy`), right after
    /// `mmap` and before anything (mlock, the kernel loader, the guest) faults a page in, so every page is
    /// allocated under it. `MPOL_MF_STRICT | MPOL_MF_MOVE` make the kernel check (and move) pages already there.
    static func bind(
        _ address: UnsafeMutableRawPointer, length: Int, policy: GuestMemoryPolicy, object: String
    ) throws(VirtError) {
        let mode: MemoryPolicy.Mode =
            switch policy.mode {
            case .bind: .bind
            case .preferred: .preferred
            case .interleave: .interleave
            }
        do {
            try MemoryPolicy.apply(mode, nodes: policy.nodes, address: address, length: length, move: true)
        } catch {
            throw VirtError(
                .systemError, .kvm,
                "mbind(\(mode.numaMapsName)) of \(object) to host NUMA node(s) '\(policy.nodes)' failed: "
                    + error.message, errno: error.errno)
        }
    }
}
