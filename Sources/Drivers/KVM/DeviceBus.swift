import Glibc

/// A device on the port I/O bus. Called with the bus lock held; `offset` is relative to the device's base.
protocol PortDevice: AnyObject {
    func read(offset: UInt64, size: Int) -> UInt64
    func write(offset: UInt64, size: Int, value: UInt64)
}

/// Routes port I/O and MMIO exits to devices by address range. One lock serialises all device state, so
/// vCPU threads and the serial input thread never race on a register.
final class DeviceBus: @unchecked Sendable {
    /// A device and the address range it claims.
    struct Mapping {
        var base: UInt64
        var length: UInt64
        var device: any PortDevice
    }

    private var ports: [Mapping] = []
    private var mmio: [Mapping] = []
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    /// Claims `[base, base + length)` in the port space.
    func addPorts(base: UInt16, length: UInt16, _ device: any PortDevice) {
        ports.append(Mapping(base: UInt64(base), length: UInt64(length), device: device))
    }

    /// Claims `[base, base + length)` in guest-physical MMIO space.
    func addMMIO(base: UInt64, length: UInt64, _ device: any PortDevice) {
        mmio.append(Mapping(base: base, length: length, device: device))
    }

    /// Runs `body` with the bus lock held (devices use it for host-side events such as serial input).
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Port read; nil when no device claims the port.
    func readPort(_ port: UInt16, size: Int) -> UInt64? {
        guard let m = find(ports, UInt64(port)) else { return nil }
        return locked { m.device.read(offset: UInt64(port) - m.base, size: size) }
    }

    /// Port write; false when no device claims the port.
    func writePort(_ port: UInt16, size: Int, value: UInt64) -> Bool {
        guard let m = find(ports, UInt64(port)) else { return false }
        locked { m.device.write(offset: UInt64(port) - m.base, size: size, value: value) }
        return true
    }

    /// MMIO read; nil when no device claims the address.
    func readMMIO(_ address: UInt64, size: Int) -> UInt64? {
        guard let m = find(mmio, address) else { return nil }
        return locked { m.device.read(offset: address - m.base, size: size) }
    }

    /// MMIO write; false when no device claims the address.
    func writeMMIO(_ address: UInt64, size: Int, value: UInt64) -> Bool {
        guard let m = find(mmio, address) else { return false }
        locked { m.device.write(offset: address - m.base, size: size, value: value) }
        return true
    }

    private func find(_ table: [Mapping], _ address: UInt64) -> Mapping? {
        table.first { address >= $0.base && address - $0.base < $0.length }
    }
}
