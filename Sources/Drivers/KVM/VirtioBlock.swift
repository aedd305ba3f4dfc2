import Glibc
import VirtBase

/// A virtio-blk device over a raw file or block device (virtio 1.2 §5.2): read, write, flush and get-id,
/// read-only advertised and enforced, and every request checked against the disk's end.
final class VirtioBlock: VirtioDevice {
    /// Virtio device id for block devices (§5).
    static let blockDeviceID: UInt32 = 2
    /// `VIRTIO_BLK_F_RO` (bit 5) and `VIRTIO_BLK_F_FLUSH` (bit 9) (§5.2.3).
    static let featureReadOnly: UInt64 = 1 << 5
    static let featureFlush: UInt64 = 1 << 9
    /// Request types (§5.2.6).
    static let requestIn: UInt32 = 0
    static let requestOut: UInt32 = 1
    static let requestFlush: UInt32 = 4
    static let requestGetID: UInt32 = 8
    /// Status byte values.
    static let statusOK: UInt8 = 0
    static let statusIOError: UInt8 = 1
    static let statusUnsupported: UInt8 = 2
    /// Sector size in bytes, the request header size, and the get-id string length.
    static let sectorSize: UInt64 = 512
    static let headerSize: UInt32 = 16
    static let idLength = 20
    /// The one request queue's size.
    static let queueSize: UInt16 = 256

    let deviceID = blockDeviceID
    let deviceFeatures: UInt64
    let queueMaxSizes: [UInt16] = [queueSize]
    /// Capacity in 512-byte sectors.
    let capacity: UInt64
    let readonly: Bool
    let path: String
    private let fd: Int32
    private let owned: Bool
    private let identity: [UInt8]

    init(_ disk: DiskConfiguration, memory: GuestMemory, domain: String) throws {
        path = disk.source.path
        readonly = disk.readonly
        let object = "disk '\(disk.source.path)' (\(disk.target)) of domain '\(domain)'"
        if let inherited = disk.source.fd {
            fd = inherited
            owned = false
        } else {
            let opened = open(disk.source.path, (disk.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
            if opened < 0 {
                throw SystemCall.error(
                    "open", object,
                    remedy: errno == EACCES || errno == EROFS
                        ? "make the image writable for the hypervisor or mark the disk <readonly/>" : nil)
            }
            fd = opened
            owned = true
        }
        let end = lseek(fd, 0, SEEK_END)
        if end < 0 {
            let saved = errno
            if owned { close(fd) }
            throw SystemCall.error("lseek", object, errno: saved)
        }
        capacity = UInt64(end) / Self.sectorSize
        deviceFeatures = Self.featureFlush | (disk.readonly ? Self.featureReadOnly : 0)
        identity = Array((disk.serial ?? "").utf8.prefix(Self.idLength))
    }

    deinit { if owned { close(fd) } }

    func readConfig(offset: UInt64, size: Int) -> UInt64 {
        // Only `capacity` (u64 at offset 0) is offered; other fields belong to features not negotiated.
        guard offset < 8, size <= 8, offset + UInt64(size) <= 8 else { return 0 }
        let shifted = capacity >> (8 * offset)
        return size == 8 ? shifted : shifted & ((1 << (8 * UInt64(size))) - 1)
    }

    func process(queue: inout Virtqueue, memory: GuestMemory) throws -> Bool {
        var used = false
        while let (head, chain) = try queue.pop(memory) {
            let written = handle(chain, memory: memory)
            queue.push(memory, head: head, written: written)
            used = true
        }
        return used
    }

    /// Serves one request; returns the bytes written to device-writable buffers (data + status).
    func handle(_ chain: [Virtqueue.Descriptor], memory: GuestMemory) -> UInt32 {
        guard chain.count >= 2, let header = chain.first, !header.isWritable, header.length >= Self.headerSize,
            let status = chain.last, status.isWritable, status.length >= 1,
            let statusPointer = memory.pointer(status.address, length: 1),
            let type = memory.load(UInt32.self, at: header.address),
            let sector = memory.load(UInt64.self, at: header.address + 8)
        else { return 0 }
        let data = Array(chain.dropFirst().dropLast())
        var written: UInt32 = 0
        let result: UInt8
        switch type {
        case Self.requestIn: result = transfer(data, sector: sector, write: false, memory: memory, written: &written)
        case Self.requestOut:
            result =
                readonly
                ? Self.statusIOError : transfer(data, sector: sector, write: true, memory: memory, written: &written)
        case Self.requestFlush: result = readonly || fdatasync(fd) == 0 ? Self.statusOK : Self.statusIOError
        case Self.requestGetID: result = getID(data, memory: memory, written: &written)
        default: result = Self.statusUnsupported
        }
        statusPointer.storeBytes(of: result, as: UInt8.self)
        return written + 1
    }

    private func transfer(
        _ data: [Virtqueue.Descriptor], sector: UInt64, write: Bool, memory: GuestMemory, written: inout UInt32
    ) -> UInt8 {
        var total: UInt64 = 0
        for d in data {
            // Reads fill device-writable buffers; writes take device-readable ones (§5.2.6.1).
            guard d.isWritable != write, memory.pointer(d.address, length: UInt64(d.length)) != nil else {
                return Self.statusIOError
            }
            total += UInt64(d.length)
        }
        guard total % Self.sectorSize == 0, sector <= capacity, total / Self.sectorSize <= capacity - sector else {
            return Self.statusIOError
        }
        var offset = sector * Self.sectorSize
        for d in data {
            guard let pointer = memory.pointer(d.address, length: UInt64(d.length)) else { return Self.statusIOError }
            let count = Int(d.length)
            let done =
                write
                ? SystemCall.pwriteFully(fd, pointer, count, Int64(offset))
                : SystemCall.preadFully(fd, pointer, count, Int64(offset))
            guard done == count else { return Self.statusIOError }
            if !write { written += d.length }
            offset += UInt64(d.length)
        }
        return Self.statusOK
    }

    private func getID(_ data: [Virtqueue.Descriptor], memory: GuestMemory, written: inout UInt32) -> UInt8 {
        guard let d = data.first, d.isWritable else { return Self.statusIOError }
        let count = min(Int(d.length), Self.idLength)
        guard let pointer = memory.pointer(d.address, length: UInt64(count)) else { return Self.statusIOError }
        var bytes = identity
        bytes.append(contentsOf: [UInt8](repeating: 0, count: max(0, count - bytes.count)))
        pointer.copyMemory(from: bytes, byteCount: count)
        written = UInt32(count)
        return Self.statusOK
    }
}
