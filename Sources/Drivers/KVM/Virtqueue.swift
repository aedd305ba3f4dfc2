import Synchronization

/// A split virtqueue in guest memory (virtio 1.2 §2.7). Every index and address the guest controls is
/// checked against the queue size and guest RAM before use.
struct Virtqueue {
    /// `VIRTQ_DESC_F_NEXT`, `VIRTQ_DESC_F_WRITE`, `VIRTQ_DESC_F_INDIRECT` (§2.7.5).
    static let descriptorNext: UInt16 = 1
    static let descriptorWrite: UInt16 = 2
    static let descriptorIndirect: UInt16 = 4
    /// `VIRTQ_AVAIL_F_NO_INTERRUPT` (§2.7.7).
    static let availNoInterrupt: UInt16 = 1
    static let descriptorSize: UInt64 = 16
    /// Byte sizes of the rings for `size` entries (§2.7: alignment 16, 2 and 4).
    static func availRingBytes(_ size: UInt16) -> UInt64 { 6 + 2 * UInt64(size) }
    static func usedRingBytes(_ size: UInt16) -> UInt64 { 6 + 8 * UInt64(size) }

    /// One descriptor of a chain.
    struct Descriptor {
        var address: UInt64
        var length: UInt32
        var flags: UInt16
        var isWritable: Bool { flags & Virtqueue.descriptorWrite != 0 }
    }

    /// What went wrong with a queue: the device stops using it until reset.
    enum Fault: Error, Equatable {
        case ringOutsideMemory, availIndexJump, headOutOfRange, descriptorOutOfRange, chainTooLong, indirect
    }

    let size: UInt16
    let descriptorTable: UInt64
    let availRing: UInt64
    let usedRing: UInt64
    var nextAvail: UInt16 = 0
    var nextUsed: UInt16 = 0

    /// Validates the layout: power-of-two size, aligned rings fully inside guest RAM.
    init(size: UInt16, descriptorTable: UInt64, availRing: UInt64, usedRing: UInt64, memory: GuestMemory) throws {
        guard size > 0, size & (size - 1) == 0, descriptorTable % 16 == 0, availRing % 2 == 0, usedRing % 4 == 0,
            memory.pointer(descriptorTable, length: UInt64(size) * Self.descriptorSize) != nil,
            memory.pointer(availRing, length: Self.availRingBytes(size)) != nil,
            memory.pointer(usedRing, length: Self.usedRingBytes(size)) != nil
        else { throw Fault.ringOutsideMemory }
        self.size = size
        self.descriptorTable = descriptorTable
        self.availRing = availRing
        self.usedRing = usedRing
    }

    /// Whether the driver asked not to be interrupted.
    func interruptSuppressed(_ memory: GuestMemory) -> Bool {
        (memory.load(UInt16.self, at: availRing) ?? 0) & Self.availNoInterrupt != 0
    }

    /// The next available chain (head index and descriptors), nil when none is pending.
    mutating func pop(_ memory: GuestMemory) throws -> (head: UInt16, chain: [Descriptor])? {
        guard let availIndex = memory.load(UInt16.self, at: availRing + 2) else { throw Fault.ringOutsideMemory }
        atomicMemoryFence(ordering: .acquiring)
        if availIndex == nextAvail { return nil }
        guard availIndex &- nextAvail <= size else { throw Fault.availIndexJump }
        let slot = availRing + 4 + 2 * UInt64(nextAvail % size)
        guard let head = memory.load(UInt16.self, at: slot) else { throw Fault.ringOutsideMemory }
        guard head < size else { throw Fault.headOutOfRange }
        nextAvail &+= 1
        var chain: [Descriptor] = []
        var index = head
        while true {
            guard index < size, chain.count < Int(size) else {
                throw index < size ? Fault.chainTooLong : Fault.descriptorOutOfRange
            }
            let at = descriptorTable + UInt64(index) * Self.descriptorSize
            guard let address = memory.load(UInt64.self, at: at), let length = memory.load(UInt32.self, at: at + 8),
                let flags = memory.load(UInt16.self, at: at + 12), let next = memory.load(UInt16.self, at: at + 14)
            else { throw Fault.ringOutsideMemory }
            guard flags & Self.descriptorIndirect == 0 else { throw Fault.indirect }
            chain.append(Descriptor(address: address, length: length, flags: flags))
            if flags & Self.descriptorNext == 0 { break }
            index = next
        }
        return (head, chain)
    }

    /// Returns chain `head` to the driver with `written` bytes written into its device-writable buffers.
    mutating func push(_ memory: GuestMemory, head: UInt16, written: UInt32) {
        let slot = usedRing + 4 + 8 * UInt64(nextUsed % size)
        memory.store(UInt32(head), at: slot)
        memory.store(written, at: slot + 4)
        nextUsed &+= 1
        atomicMemoryFence(ordering: .releasing)
        memory.store(nextUsed, at: usedRing + 2)
    }
}
