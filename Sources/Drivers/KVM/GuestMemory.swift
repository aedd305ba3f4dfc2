import CVirtShims
import Glibc
import VirtBase

/// Guest RAM: one mapping per guest NUMA cell (each with its own backing, page size and NUMA policy), laid out
/// in one reserved host address range in guest-physical order, and split into KVM memory slots below and above
/// the 32-bit hole. Accessors are bounds-checked by guest-physical address: nothing a guest controls can reach
/// outside it.
public final class GuestMemory: @unchecked Sendable {
    /// One contiguous range of guest-physical RAM and where it lives in the host mapping.
    public struct Region: Sendable, Equatable {
        /// First guest-physical address.
        public var guestAddress: UInt64
        /// Length in bytes.
        public var size: UInt64
        /// Offset into the host mapping.
        public var hostOffset: UInt64
        /// The index of the cell (in `cells`) the range belongs to.
        public var cell: Int = 0
        /// One past the last guest-physical address.
        public var end: UInt64 { guestAddress + size }
    }

    /// The base page size of x86-64.
    public static let systemPageBytes: UInt64 = 4096
    /// The default huge page size of x86-64 (`<hugepages/>` without a size).
    public static let defaultHugePageBytes: UInt64 = 2 << 20

    /// The start of the host address range that holds every cell.
    public let base: UnsafeMutableRawPointer
    /// Total RAM in bytes (the cells' sum).
    public let size: UInt64
    /// The guest-physical ranges, in address order (one or two per cell).
    public let regions: [Region]
    /// The cells as configured, in guest-physical order.
    public let cells: [MemoryCellConfiguration]
    /// The length of the reserved host range (RAM plus the alignment gaps between cells).
    let span: Int
    private let backingFDs: [Int32]

    /// The RAM ranges for one cell of `size` bytes: below the hole, then from 4 GiB (Firecracker
    /// `arch_memory_regions`).
    public static func regions(forSize size: UInt64) -> [Region] {
        layout([(size, systemPageBytes)])
    }

    /// The guest-physical layout of cells of the given sizes: each starts at the next multiple of its page size
    /// (so a huge page is never split in the guest's view) after the previous one; RAM that would fall into the
    /// 32-bit hole continues at 4 GiB. Host offsets follow guest addresses with the hole left out, so cells that
    /// touch in the guest touch in the host mapping too.
    public static func layout(_ cells: [(size: UInt64, pageBytes: UInt64)]) -> [Region] {
        var regions: [Region] = []
        var address: UInt64 = 0
        for (index, cell) in cells.enumerated() {
            address = roundUp(address, to: cell.pageBytes)
            var remaining = cell.size
            while remaining > 0 {
                if address >= GuestLayout.mmioHoleStart && address < GuestLayout.mmioHoleEnd {
                    address = GuestLayout.mmioHoleEnd
                }
                let room = address < GuestLayout.mmioHoleStart ? GuestLayout.mmioHoleStart - address : remaining
                let part = min(remaining, room)
                regions.append(Region(guestAddress: address, size: part, hostOffset: hostOffset(address), cell: index))
                address += part
                remaining -= part
            }
        }
        return regions
    }

    /// Where guest-physical `address` (RAM, not in the hole) lives in the host range.
    static func hostOffset(_ address: UInt64) -> UInt64 {
        address < GuestLayout.mmioHoleEnd ? address : address - (GuestLayout.mmioHoleEnd - GuestLayout.mmioHoleStart)
    }

    static func roundUp(_ value: UInt64, to alignment: UInt64) -> UInt64 {
        (value + alignment - 1) / alignment * alignment
    }

    /// Maps `size` bytes as configured by `backing`, with the NUMA `policy` set before any page is touched.
    public convenience init(
        size: UInt64, backing: MemoryBackingConfiguration, policy: GuestMemoryPolicy? = nil, name: String
    ) throws {
        try self.init(
            cells: [MemoryCellConfiguration(id: nil, sizeBytes: size, backing: backing, policy: policy)], name: name)
    }

    /// Reserves one host range for every cell, then maps each cell into its part of it with its own backing and
    /// policy (see `GuestMemory+Mapping`). Anything mapped is unmapped again when a later step fails.
    public init(cells: [MemoryCellConfiguration], name: String) throws {
        guard !cells.isEmpty else {
            throw VirtError(.configUnsupported, .kvm, "guest RAM of '\(name)' has no cells; give the guest memory")
        }
        let total = cells.reduce(UInt64(0)) { $0 + $1.sizeBytes }
        guard total >= 1 << 20 else {
            throw VirtError(
                .configUnsupported, .kvm,
                "guest RAM of '\(name)' (\(total >> 20) MiB) is too small; give the guest at least 1 MiB")
        }
        for cell in cells { try Self.check(cell, domain: name) }
        let regions = Self.layout(cells.map { ($0.sizeBytes, $0.pageBytes) })
        let span = Int(regions.last.map { $0.hostOffset + $0.size } ?? 0)
        let alignment = Int(cells.map(\.pageBytes).max() ?? Self.systemPageBytes)
        let base = try Self.reserve(span, alignment: alignment, domain: name)
        var fds: [Int32] = []
        do {
            for (index, cell) in cells.enumerated() {
                let offset = regions.first { $0.cell == index }?.hostOffset ?? 0
                let fd = try Self.map(cell, at: base + Int(offset), domain: name)
                if fd >= 0 { fds.append(fd) }
            }
        } catch {
            Self.release(base, span: span)
            for fd in fds { close(fd) }
            throw error
        }
        self.base = base
        self.size = total
        self.regions = regions
        self.cells = cells
        self.span = span
        backingFDs = fds
    }

    deinit {
        Self.release(base, span: span)
        for fd in backingFDs { close(fd) }
    }

    /// The host address and length of cell `index`'s mapping (in `cells` order).
    public func hostRange(ofCell index: Int) -> (start: UnsafeMutableRawPointer, length: Int)? {
        guard let first = regions.first(where: { $0.cell == index }), index < cells.count else { return nil }
        return (base + Int(first.hostOffset), Int(cells[index].sizeBytes))
    }

    /// The end of the RAM that runs without a gap from guest-physical address 0 (where boot data and a kernel
    /// that is not relocated must fit).
    public var lowMemoryEnd: UInt64 {
        var end: UInt64 = 0
        for region in regions where region.guestAddress == end { end = region.end }
        return end
    }

    /// A host pointer for `[address, address + length)` if the whole range is RAM: one region, or regions that
    /// follow each other without a gap (two cells side by side, which are side by side in the host range too).
    public func pointer(_ address: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
        guard let first = regions.firstIndex(where: { address >= $0.guestAddress && address < $0.end }) else {
            return nil
        }
        let (end, overflow) = address.addingReportingOverflow(length)
        guard !overflow else { return nil }
        var covered = regions[first].end
        var next = first + 1
        while end > covered {
            guard next < regions.count, regions[next].guestAddress == covered else { return nil }
            covered = regions[next].end
            next += 1
        }
        return base + Int(regions[first].hostOffset + (address - regions[first].guestAddress))
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
    public func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) -> Bool {
        guard let target = pointer(address, length: UInt64(MemoryLayout<T>.size)) else { return false }
        target.storeBytes(of: value.littleEndian, as: T.self)
        return true
    }
}
