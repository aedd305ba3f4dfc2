/// A virtio device behind the MMIO transport.
protocol VirtioDevice: AnyObject {
    /// Virtio device id (§5: 2 = block).
    var deviceID: UInt32 { get }
    /// Feature bits offered (VERSION_1 is added by the transport).
    var deviceFeatures: UInt64 { get }
    /// Largest queue size per queue; the count is the number of queues.
    var queueMaxSizes: [UInt16] { get }
    /// Reads `size` bytes of device configuration at `offset`.
    func readConfig(offset: UInt64, size: Int) -> UInt64
    /// Processes every available request on `queue`; returns whether any chain was used.
    func process(queue: inout Virtqueue, memory: GuestMemory) throws -> Bool
}

/// The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2; offsets as in `linux/virtio_mmio.h`).
final class VirtioMMIOTransport: PortDevice {
    // Register offsets.
    static let magicValue: UInt64 = 0x000
    static let version: UInt64 = 0x004
    static let deviceIDRegister: UInt64 = 0x008
    static let vendorID: UInt64 = 0x00c
    static let deviceFeaturesRegister: UInt64 = 0x010
    static let deviceFeaturesSel: UInt64 = 0x014
    static let driverFeaturesRegister: UInt64 = 0x020
    static let driverFeaturesSel: UInt64 = 0x024
    static let queueSel: UInt64 = 0x030
    static let queueNumMax: UInt64 = 0x034
    static let queueNum: UInt64 = 0x038
    static let queueReady: UInt64 = 0x044
    static let queueNotify: UInt64 = 0x050
    static let interruptStatus: UInt64 = 0x060
    static let interruptACK: UInt64 = 0x064
    static let status: UInt64 = 0x070
    static let queueDescLow: UInt64 = 0x080
    static let queueDescHigh: UInt64 = 0x084
    static let queueDriverLow: UInt64 = 0x090
    static let queueDriverHigh: UInt64 = 0x094
    static let queueDeviceLow: UInt64 = 0x0a0
    static let queueDeviceHigh: UInt64 = 0x0a4
    static let configGeneration: UInt64 = 0x0fc
    static let configSpace: UInt64 = 0x100

    /// "virt" little-endian, and transport version 2 (non-legacy).
    static let magic: UInt64 = 0x7472_6976
    static let transportVersion: UInt64 = 2
    /// Vendor id: "SVRT" would be arbitrary; 0 as Firecracker returns.
    static let vendor: UInt64 = 0
    /// VIRTIO_F_VERSION_1 (§6).
    static let featureVersion1: UInt64 = 1 << 32
    // Device status bits (§2.1).
    static let statusAcknowledge: UInt32 = 1
    static let statusDriver: UInt32 = 2
    static let statusDriverOK: UInt32 = 4
    static let statusFeaturesOK: UInt32 = 8
    static let statusNeedsReset: UInt32 = 0x40
    static let statusFailed: UInt32 = 0x80
    // Interrupt status bits (§4.2.2).
    static let interruptUsedBuffer: UInt32 = 1
    static let interruptConfigChange: UInt32 = 2

    /// Per-queue registers as the driver programs them.
    struct QueueRegisters {
        var size: UInt16 = 0
        var ready = false
        var descriptorTable: UInt64 = 0
        var driverRing: UInt64 = 0
        var deviceRing: UInt64 = 0
        var queue: Virtqueue?
    }

    let device: any VirtioDevice
    private let memory: GuestMemory
    private let setIRQ: (Bool) -> Void
    private var deviceStatus: UInt32 = 0
    private var deviceFeaturesSelect: UInt32 = 0
    private var driverFeaturesSelect: UInt32 = 0
    private var driverFeatures: UInt64 = 0
    private var queueSelect: UInt32 = 0
    private var queues: [QueueRegisters]
    private var interrupts: UInt32 = 0
    private var lineHigh = false

    init(device: any VirtioDevice, memory: GuestMemory, setIRQ: @escaping (Bool) -> Void) {
        self.device = device
        self.memory = memory
        self.setIRQ = setIRQ
        queues = Array(repeating: QueueRegisters(), count: device.queueMaxSizes.count)
    }

    private var offeredFeatures: UInt64 { device.deviceFeatures | Self.featureVersion1 }

    private func reset() {
        deviceStatus = 0
        driverFeatures = 0
        deviceFeaturesSelect = 0
        driverFeaturesSelect = 0
        queueSelect = 0
        queues = Array(repeating: QueueRegisters(), count: queues.count)
        interrupts = 0
        updateInterrupt()
    }

    private func updateInterrupt() {
        let high = interrupts != 0
        if high != lineHigh {
            lineHigh = high
            setIRQ(high)
        }
    }

    func read(offset: UInt64, size: Int) -> UInt64 {
        if offset >= Self.configSpace { return device.readConfig(offset: offset - Self.configSpace, size: size) }
        guard size == 4 else { return 0 }
        let selected = Int(queueSelect) < queues.count ? Int(queueSelect) : nil
        switch offset {
        case Self.magicValue: return Self.magic
        case Self.version: return Self.transportVersion
        case Self.deviceIDRegister: return UInt64(device.deviceID)
        case Self.vendorID: return Self.vendor
        case Self.deviceFeaturesRegister:
            return deviceFeaturesSelect > 1 ? 0 : (offeredFeatures >> (32 * UInt64(deviceFeaturesSelect))) & 0xffff_ffff
        case Self.queueNumMax: return selected.map { UInt64(device.queueMaxSizes[$0]) } ?? 0
        case Self.queueReady: return selected.map { queues[$0].ready ? 1 : 0 } ?? 0
        case Self.interruptStatus: return UInt64(interrupts)
        case Self.status: return UInt64(deviceStatus)
        case Self.configGeneration: return 0
        default: return 0
        }
    }

    func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4, offset < Self.configSpace else { return }  // Config space is read-only for block.
        let v = UInt32(truncatingIfNeeded: value)
        switch offset {
        case Self.deviceFeaturesSel: deviceFeaturesSelect = v
        case Self.driverFeaturesSel: driverFeaturesSelect = v
        case Self.driverFeaturesRegister:
            // Features may change only while negotiating (DRIVER set, FEATURES_OK not yet).
            guard deviceStatus & Self.statusDriver != 0, deviceStatus & Self.statusFeaturesOK == 0,
                driverFeaturesSelect <= 1
            else { return }
            let shift = 32 * UInt64(driverFeaturesSelect)
            driverFeatures = (driverFeatures & ~(0xffff_ffff << shift)) | (UInt64(v) << shift)
        case Self.queueSel: queueSelect = v
        case Self.queueNotify: notify(queue: Int(v))
        case Self.interruptACK:
            interrupts &= ~v
            updateInterrupt()
        case Self.status: setStatus(v)
        default: writeQueueRegister(offset, v)
        }
    }

    private func writeQueueRegister(_ offset: UInt64, _ v: UInt32) {
        let i = Int(queueSelect)
        guard i < queues.count, !queues[i].ready,
            deviceStatus & Self.statusFeaturesOK != 0, deviceStatus & Self.statusDriverOK == 0
        else {
            if offset == Self.queueReady, i < queues.count, v == 0 { queues[i].ready = false; queues[i].queue = nil }
            return
        }
        func low(_ old: UInt64) -> UInt64 { (old & 0xffff_ffff_0000_0000) | UInt64(v) }
        func high(_ old: UInt64) -> UInt64 { (old & 0xffff_ffff) | (UInt64(v) << 32) }
        switch offset {
        case Self.queueNum: queues[i].size = UInt16(truncatingIfNeeded: min(v, UInt32(device.queueMaxSizes[i])))
        case Self.queueDescLow: queues[i].descriptorTable = low(queues[i].descriptorTable)
        case Self.queueDescHigh: queues[i].descriptorTable = high(queues[i].descriptorTable)
        case Self.queueDriverLow: queues[i].driverRing = low(queues[i].driverRing)
        case Self.queueDriverHigh: queues[i].driverRing = high(queues[i].driverRing)
        case Self.queueDeviceLow: queues[i].deviceRing = low(queues[i].deviceRing)
        case Self.queueDeviceHigh: queues[i].deviceRing = high(queues[i].deviceRing)
        case Self.queueReady where v == 1:
            let q = queues[i]
            queues[i].queue = try? Virtqueue(
                size: q.size, descriptorTable: q.descriptorTable, availRing: q.driverRing, usedRing: q.deviceRing,
                memory: memory)
            queues[i].ready = queues[i].queue != nil
            if !queues[i].ready { needsReset() }
        default: break
        }
    }

    private func setStatus(_ v: UInt32) {
        if v == 0 {
            reset()
            return
        }
        // Bits are only ever added until a reset (§2.1.2); anything else is a driver bug.
        guard v & deviceStatus == deviceStatus else { return }
        var next = v
        if v & Self.statusFeaturesOK != 0 && deviceStatus & Self.statusFeaturesOK == 0 {
            let acceptable = driverFeatures & ~offeredFeatures == 0 && driverFeatures & Self.featureVersion1 != 0
            if !acceptable { next &= ~Self.statusFeaturesOK }
        }
        deviceStatus = next
    }

    private func needsReset() {
        deviceStatus |= Self.statusNeedsReset
        interrupts |= Self.interruptConfigChange
        updateInterrupt()
    }

    private func notify(queue index: Int) {
        guard deviceStatus & Self.statusDriverOK != 0, deviceStatus & Self.statusNeedsReset == 0,
            index < queues.count, queues[index].ready, var queue = queues[index].queue
        else { return }
        do {
            let used = try device.process(queue: &queue, memory: memory)
            queues[index].queue = queue
            if used && !queue.interruptSuppressed(memory) {
                interrupts |= Self.interruptUsedBuffer
                updateInterrupt()
            }
        } catch {
            queues[index].queue = queue
            needsReset()
        }
    }
}
