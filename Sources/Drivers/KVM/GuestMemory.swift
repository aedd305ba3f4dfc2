import CVirtShims
import Glibc
import VirtBase

/// Guest RAM: one host mapping split into KVM memory slots below and above the 32-bit hole, with
/// bounds-checked accessors by guest-physical address. Nothing a guest controls can reach outside it.
public final class GuestMemory: @unchecked Sendable {
    /// One contiguous range of guest-physical RAM and where it lives in the host mapping.
    public struct Region: Sendable, Equatable {
        /// First guest-physical address.
        public var guestAddress: UInt64
        /// Length in bytes.
        public var size: UInt64
        /// Offset into the host mapping.
        public var hostOffset: UInt64
        /// One past the last guest-physical address.
        public var end: UInt64 { guestAddress + size }
    }

    /// The host mapping.
    public let base: UnsafeMutableRawPointer
    /// Total RAM in bytes.
    public let size: UInt64
    /// The guest-physical ranges (one or two).
    public let regions: [Region]
    private let backingFD: Int32

    /// The RAM ranges for `size` bytes: below the hole, then from 4 GiB (Firecracker `arch_memory_regions`).
    public static func regions(forSize size: UInt64) -> [Region] {
        let low = min(size, GuestLayout.mmioHoleStart)
        var result = [Region(guestAddress: 0, size: low, hostOffset: 0)]
        if size > low {
            result.append(Region(guestAddress: GuestLayout.mmioHoleEnd, size: size - low, hostOffset: low))
        }
        return result
    }

    /// Maps `size` bytes as configured by `backing`, with the NUMA `policy` set before any page is touched.
    public init(
        size: UInt64, backing: MemoryBackingConfiguration, policy: GuestMemoryPolicy? = nil, name: String
    ) throws {
        let object = "guest RAM of '\(name)' (\(size >> 20) MiB)"
        guard size >= 1 << 20 else {
            throw VirtError(.configUnsupported, .kvm, "\(object) is too small; give the guest at least 1 MiB")
        }
        self.size = size
        regions = Self.regions(forSize: size)
        var flags = backing.shared ? MAP_SHARED : MAP_PRIVATE
        var fd: Int32 = -1
        switch backing.source {
        case .anonymous:
            flags |= MAP_ANONYMOUS | CVIRT_MAP_NORESERVE
        case .memfd:
            fd = cvirt_memfd_create("guest-ram-\(name)", CVIRT_MFD_CLOEXEC)
            if fd < 0 { throw SystemCall.error("memfd_create", object) }
        case .hugetlb:
            let page = backing.hugePageBytes ?? (2 << 20)
            guard page > 0, page & (page - 1) == 0, size % page == 0 else {
                throw VirtError(
                    .configUnsupported, .kvm,
                    "\(object) is not a multiple of the huge page size \(page) bytes; round the memory size")
            }
            let shift = UInt32(page.trailingZeroBitCount) << UInt32(CVIRT_MFD_HUGE_SHIFT)
            fd = cvirt_memfd_create("guest-ram-\(name)", CVIRT_MFD_CLOEXEC | CVIRT_MFD_HUGETLB | shift)
            if fd < 0 {
                throw SystemCall.error(
                    "memfd_create(MFD_HUGETLB)", object,
                    remedy: "check that huge pages of \(page >> 10) KiB are supported by the host kernel")
            }
        }
        if fd >= 0 && ftruncate(fd, off_t(size)) != 0 {
            let saved = errno
            close(fd)
            throw SystemCall.error(
                "ftruncate", object, errno: saved,
                remedy: backing.source == .hugetlb ? "reserve enough huge pages (/proc/sys/vm/nr_hugepages)" : nil)
        }
        let mapped = mmap(nil, Int(size), PROT_READ | PROT_WRITE, flags, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            let saved = errno
            if fd >= 0 { close(fd) }
            throw SystemCall.error("mmap", object, errno: saved)
        }
        if let policy {
            do {
                try Self.bind(mapped, length: Int(size), policy: policy, object: object)
            } catch {
                munmap(mapped, Int(size))
                if fd >= 0 { close(fd) }
                throw error
            }
        }
        base = mapped
        backingFD = fd
        let advice = backing.mergeable ? CVIRT_MADV_MERGEABLE : CVIRT_MADV_UNMERGEABLE
        // KSM may be compiled out (EINVAL); merging is an optimisation, so only a locked request is fatal.
        _ = madvise(mapped, Int(size), advice)
        if backing.locked && mlock(mapped, Int(size)) != 0 {
            let saved = errno
            munmap(mapped, Int(size))
            if fd >= 0 { close(fd) }
            throw SystemCall.error(
                "mlock", object, errno: saved, remedy: "raise the memlock limit (ulimit -l) of the hypervisor")
        }
    }

    deinit {
        munmap(base, Int(size))
        if backingFD >= 0 { close(backingFD) }
    }

    /// A host pointer for `[address, address + length)` if the whole range is RAM in one region.
    public func pointer(_ address: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
        for region in regions where address >= region.guestAddress && address < region.end {
            let offset = address - region.guestAddress
            guard length <= region.size - offset else { return nil }
            return base + Int(region.hostOffset + offset)
        }
        return nil
    }

    /// Copies `bytes` to guest RAM; throws when the range is not RAM.
    public func write(_ bytes: some Collection<UInt8>, at address: UInt64, what: String) throws {
        guard let target = pointer(address, length: UInt64(bytes.count)) else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(what) (\(bytes.count) bytes at 0x\(String(address, radix: 16))) does not fit in guest RAM "
                    + "of \(size >> 20) MiB; give the guest more memory")
        }
        let buffer = UnsafeMutableRawBufferPointer(start: target, count: bytes.count)
        _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
    }

    /// Reads a little-endian integer, or nil when outside RAM.
    public func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) -> T? {
        guard let source = pointer(address, length: UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: source.loadUnaligned(as: T.self))
    }

    /// Writes a little-endian integer; false when outside RAM.
    @discardableResult
    /// Writes a little-endian integer; false when outside RAM.
    public func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) -> Bool {
        guard let target = pointer(address, length: UInt64(MemoryLayout<T>.size)) else { return false }
        target.storeBytes(of: value.littleEndian, as: T.self)
        return true
    }
}
