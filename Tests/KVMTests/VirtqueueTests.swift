import Glibc
import Testing
import VirtBase

@testable import KVM

/// The split virtqueue and virtio-blk against hostile drivers: nothing outside the queue or the disk is touched.
@Suite("virtqueue and virtio-blk")
struct VirtqueueTests {
    static let desc: UInt64 = 0x1000
    static let avail: UInt64 = 0x2000
    static let used: UInt64 = 0x3000
    static let size: UInt16 = 8

    static func memory() throws -> GuestMemory {
        try GuestMemory(size: 1 << 20, backing: MemoryBackingConfiguration(mergeable: false), name: "virtqueue-test")
    }

    static func setDescriptor(
        _ m: GuestMemory, _ i: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16
    ) {
        let at = desc + UInt64(i) * 16
        m.store(address, at: at)
        m.store(length, at: at + 8)
        m.store(flags, at: at + 12)
        m.store(next, at: at + 14)
    }

    static func offer(_ m: GuestMemory, head: UInt16) {
        let idx = m.load(UInt16.self, at: avail + 2)!
        m.store(head, at: avail + 4 + 2 * UInt64(idx % size))
        m.store(idx &+ 1, at: avail + 2)
    }

    @Test func rejectsRingsOutsideMemoryOrBadSizes() throws {
        let m = try Self.memory()
        #expect(throws: Virtqueue.Fault.self) {
            try Virtqueue(size: 6, descriptorTable: Self.desc, availRing: Self.avail, usedRing: Self.used, memory: m)
        }
        #expect(throws: Virtqueue.Fault.self) {
            try Virtqueue(
                size: 8, descriptorTable: (1 << 20) - 64, availRing: Self.avail, usedRing: Self.used, memory: m)
        }
        #expect(throws: Virtqueue.Fault.self) {
            try Virtqueue(
                size: 8, descriptorTable: Self.desc + 8, availRing: Self.avail, usedRing: Self.used, memory: m)
        }
    }

    @Test func loopsAndOutOfRangeIndicesAreFaults() throws {
        let m = try Self.memory()
        var q = try Virtqueue(
            size: Self.size, descriptorTable: Self.desc, availRing: Self.avail, usedRing: Self.used, memory: m)
        Self.setDescriptor(m, 0, address: 0x8000, length: 16, flags: Virtqueue.descriptorNext, next: 1)
        Self.setDescriptor(m, 1, address: 0x8000, length: 16, flags: Virtqueue.descriptorNext, next: 0)
        Self.offer(m, head: 0)
        #expect(throws: Virtqueue.Fault.chainTooLong) { try q.pop(m) }
        var q2 = try Virtqueue(
            size: Self.size, descriptorTable: Self.desc, availRing: Self.avail, usedRing: Self.used, memory: m)
        q2.nextAvail = 1
        Self.setDescriptor(m, 2, address: 0x8000, length: 16, flags: Virtqueue.descriptorNext, next: 200)
        Self.offer(m, head: 2)
        #expect(throws: Virtqueue.Fault.descriptorOutOfRange) { try q2.pop(m) }
        var q3 = try Virtqueue(
            size: Self.size, descriptorTable: Self.desc, availRing: Self.avail, usedRing: Self.used, memory: m)
        m.store(UInt16(100), at: Self.avail + 2)
        #expect(throws: Virtqueue.Fault.availIndexJump) { try q3.pop(m) }
    }

    /// A block device over a 4-sector temporary image.
    static func block(readonly: Bool, memory: GuestMemory) throws -> (VirtioBlock, String) {
        let path = "/tmp/swift-virt-vq-\(getpid())-\(readonly).img"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        var bytes = [UInt8](repeating: 0x11, count: 2048)
        _ = write(fd, &bytes, bytes.count)
        close(fd)
        let disk = DiskConfiguration(
            source: FileSource(path: path), readonly: readonly, serial: "serial-1", target: "vda")
        return (try VirtioBlock(disk, memory: memory, domain: "test"), path)
    }

    static func request(_ m: GuestMemory, type: UInt32, sector: UInt64, dataLength: UInt32, dataWritable: Bool)
        -> [Virtqueue.Descriptor]
    {
        m.store(type, at: 0x8000)
        m.store(sector, at: 0x8008)
        m.store(UInt8(0xff), at: 0x9000)
        return [
            .init(address: 0x8000, length: 16, flags: 0),
            .init(address: 0xa000, length: dataLength, flags: dataWritable ? Virtqueue.descriptorWrite : 0),
            .init(address: 0x9000, length: 1, flags: Virtqueue.descriptorWrite),
        ]
    }

    @Test func blockRequestsStayInsideTheDisk() throws {
        let m = try Self.memory()
        let (blk, path) = try Self.block(readonly: false, memory: m)
        defer { unlink(path) }
        #expect(blk.capacity == 4)
        #expect(blk.readConfig(offset: 0, size: 4) == 4)
        #expect(blk.deviceFeatures & VirtioBlock.featureReadOnly == 0)
        #expect(blk.handle(Self.request(m, type: 0, sector: 3, dataLength: 512, dataWritable: true), memory: m) == 513)
        #expect(m.load(UInt8.self, at: 0x9000) == 0)
        #expect(m.load(UInt8.self, at: 0xa000) == 0x11)
        _ = blk.handle(Self.request(m, type: 0, sector: 3, dataLength: 1024, dataWritable: true), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError, "a read across the end fails")
        _ = blk.handle(Self.request(m, type: 0, sector: UInt64.max, dataLength: 512, dataWritable: true), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError, "no overflow on huge sectors")
        _ = blk.handle(Self.request(m, type: 0, sector: 0, dataLength: 100, dataWritable: true), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError, "partial sectors fail")
        var chain = Self.request(m, type: 0, sector: 0, dataLength: 512, dataWritable: true)
        chain[1].address = (1 << 20) - 100
        _ = blk.handle(chain, memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError, "buffers must lie in guest RAM")
        _ = blk.handle(Self.request(m, type: 0, sector: 0, dataLength: 512, dataWritable: false), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError, "a read into a read-only buffer fails")
        _ = blk.handle(Self.request(m, type: 99, sector: 0, dataLength: 512, dataWritable: true), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusUnsupported)
        #expect(
            blk.handle(
                Self.request(m, type: VirtioBlock.requestGetID, sector: 0, dataLength: 20, dataWritable: true),
                memory: m) == 21)
        let id = (0..<8).map { m.load(UInt8.self, at: 0xa000 + UInt64($0))! }
        #expect(String(decoding: id, as: UTF8.self) == "serial-1")
    }

    @Test func readonlyDisksRefuseWrites() throws {
        let m = try Self.memory()
        let (blk, path) = try Self.block(readonly: true, memory: m)
        defer { unlink(path) }
        #expect(blk.deviceFeatures & VirtioBlock.featureReadOnly != 0)
        for i in 0..<512 { m.store(UInt8(0x22), at: 0xa000 + UInt64(i)) }
        _ = blk.handle(
            Self.request(m, type: VirtioBlock.requestOut, sector: 0, dataLength: 512, dataWritable: false), memory: m)
        #expect(m.load(UInt8.self, at: 0x9000) == VirtioBlock.statusIOError)
        let fd = open(path, O_RDONLY)
        var first: UInt8 = 0
        _ = read(fd, &first, 1)
        close(fd)
        #expect(first == 0x11, "the image is unchanged")
    }
}
