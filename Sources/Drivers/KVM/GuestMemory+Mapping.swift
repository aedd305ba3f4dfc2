import CVirtShims
import Glibc
import Host
import VirtBase

/// How one cell's mapping is made: backing (anonymous, memfd, hugetlb memfd), `MAP_SHARED` or private, the NUMA
/// policy before any page is touched, KSM advice, allocation up front, and `mlock`.
extension GuestMemory {
    /// A cell must be a whole number of its pages, of a power-of-two size.
    static func check(_ cell: MemoryCellConfiguration, domain: String) throws(VirtError) {
        let object = cell.object(domain: domain)
        let page = cell.pageBytes
        guard cell.sizeBytes > 0 else {
            throw VirtError(.configUnsupported, .kvm, "\(object) is empty; give every cell some memory")
        }
        guard page > 0, page & (page - 1) == 0, cell.sizeBytes % page == 0 else {
            let kind = cell.backing.source == .hugetlb ? "huge page size" : "page size"
            throw VirtError(
                .configUnsupported, .kvm,
                "\(object) (\(cell.sizeBytes) bytes) is not a multiple of the \(kind) \(page) bytes; round the memory "
                    + "size up to a multiple of \(page / 1024) KiB")
        }
    }

    /// An inaccessible page kept on each side of the reserved range: guest RAM never shares a mapping with its
    /// neighbours (so `/proc/PID/maps` shows it as its own ranges), and an overrun faults instead of landing in
    /// other memory.
    static let guardBytes = Int(systemPageBytes)

    /// Reserves `span` bytes of address space aligned to `alignment` (the largest page size), with a guard page
    /// on each side, inaccessible until the cells are mapped over it.
    static func reserve(_ span: Int, alignment: Int, domain: String) throws -> UnsafeMutableRawPointer {
        let length = span + alignment + 2 * guardBytes
        let raw = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | CVIRT_MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            throw SystemCall.error(
                "mmap", "the address range for guest RAM of '\(domain)' (\(span >> 20) MiB)",
                remedy: "check the hypervisor's address-space limit (ulimit -v)")
        }
        let start = Int(bitPattern: raw)
        let aligned = (start + guardBytes + alignment - 1) / alignment * alignment
        let head = aligned - guardBytes - start
        if head > 0 { munmap(raw, head) }
        let tail = start + length - (aligned + span + guardBytes)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + span + guardBytes), tail) }
        return UnsafeMutableRawPointer(bitPattern: aligned)!
    }

    /// Gives the reserved range of `reserve` back, guard pages included.
    static func release(_ base: UnsafeMutableRawPointer, span: Int) {
        munmap(base - guardBytes, span + 2 * guardBytes)
    }

    /// Maps `cell` at `address` (inside the reserved range) and prepares it; returns the backing descriptor (or
    /// -1 for anonymous memory). On failure nothing of this cell stays open; the caller unmaps the range.
    static func map(_ cell: MemoryCellConfiguration, at address: UnsafeMutableRawPointer, domain: String) throws
        -> Int32
    {
        let object = cell.object(domain: domain)
        let backing = cell.backing
        let length = Int(cell.sizeBytes)
        let fd = try backingDescriptor(cell, domain: domain)
        var flags = (backing.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED
        if fd < 0 && backing.source == .hugetlb {
            // Private huge pages need no file: anonymous hugetlb faults in faster than a hugetlb memfd mapped
            // private. The pages are reserved at mmap, so a pool that is too small fails here.
            let size = Int32(cell.pageBytes.trailingZeroBitCount) << CVIRT_MAP_HUGE_SHIFT
            flags |= MAP_ANONYMOUS | CVIRT_MAP_HUGETLB | size
        } else if fd < 0 {
            flags |= MAP_ANONYMOUS | CVIRT_MAP_NORESERVE
        }
        do {
            let mapped = mmap(address, length, PROT_READ | PROT_WRITE, flags, fd, 0)
            guard let mapped, mapped != MAP_FAILED else {
                throw SystemCall.error(
                    "mmap", object,
                    remedy: backing.source == .hugetlb ? hugePageRemedy(cell) : nil)
            }
            if let policy = cell.policy { try bind(mapped, length: length, policy: policy, object: object) }
            let advice = backing.mergeable ? CVIRT_MADV_MERGEABLE : CVIRT_MADV_UNMERGEABLE
            // KSM may be compiled out (EINVAL), and hugetlb memory is never merged: the advice is best effort.
            _ = madvise(mapped, length, advice)
            if backing.source == .hugetlb || backing.preallocate {
                try populate(mapped, length: length, cell: cell, object: object)
            }
            if backing.locked && mlock(mapped, length) != 0 {
                throw SystemCall.error(
                    "mlock", object, remedy: "raise the memlock limit (ulimit -l) of the hypervisor")
            }
        } catch {
            if fd >= 0 { close(fd) }
            throw error
        }
        return fd
    }

    /// The memfd behind a cell (sized to it), or -1 for anonymous memory (huge pages included, unless shared).
    private static func backingDescriptor(_ cell: MemoryCellConfiguration, domain: String) throws -> Int32 {
        let object = cell.object(domain: domain)
        let label = "guest-ram-\(domain)" + (cell.id.map { "-cell\($0)" } ?? "")
        let fd: Int32
        switch cell.backing.source {
        case .anonymous:
            return -1
        case .hugetlb where !cell.backing.shared:
            return -1
        case .memfd:
            fd = cvirt_memfd_create(label, CVIRT_MFD_CLOEXEC)
            if fd < 0 { throw SystemCall.error("memfd_create", object) }
        case .hugetlb:
            let shift = UInt32(cell.pageBytes.trailingZeroBitCount) << UInt32(CVIRT_MFD_HUGE_SHIFT)
            fd = cvirt_memfd_create(label, CVIRT_MFD_CLOEXEC | CVIRT_MFD_HUGETLB | shift)
            if fd < 0 {
                throw SystemCall.error(
                    "memfd_create(MFD_HUGETLB)", object,
                    remedy: "check that huge pages of \(cell.pageBytes >> 10) KiB are supported by the host kernel")
            }
        }
        if ftruncate(fd, off_t(cell.sizeBytes)) != 0 {
            let saved = errno
            close(fd)
            throw SystemCall.error(
                "ftruncate", object, errno: saved,
                remedy: cell.backing.source == .hugetlb ? "reserve enough huge pages (virtsh allocpages)" : nil)
        }
        return fd
    }

    /// What a cell lacking huge pages needs, what is free, and the command that adds pages.
    static func hugePageRemedy(_ cell: MemoryCellConfiguration) -> String {
        let sizeKiB = cell.pageBytes >> 10
        let nodes = cell.policy.map { " on host NUMA node(s) '\($0.nodes)'" } ?? ""
        return "it needs \(cell.sizeBytes / cell.pageBytes) free \(sizeKiB) KiB huge pages\(nodes); free now: "
            + freeHugePagesText(sizeKiB: sizeKiB, nodes: cell.policy?.nodes)
            + "; add pages with 'virtsh allocpages \(sizeKiB) COUNT --cellno NODE --add'"
    }

    /// "node 0: 12, node 1: 0" for the nodes (all where nil), or the host-wide count where sysfs has no nodes.
    static func freeHugePagesText(sizeKiB: UInt64, nodes: CPUSet?) -> String {
        guard let host = try? HostTopology.read(root: "/") else { return "unknown" }
        guard host.hasNUMA else {
            return String(host.hostHugePages.first { $0.sizeKiB == sizeKiB }?.free ?? 0) + " host-wide"
        }
        return host.nodes.filter { nodes?.contains($0.id) ?? true }
            .map { "node \($0.id): \($0.pool(sizeKiB: sizeKiB)?.free ?? 0)" }.joined(separator: ", ")
    }
}
