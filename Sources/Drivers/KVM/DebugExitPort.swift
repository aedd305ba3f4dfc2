/// An isa-debug-exit-compatible device: any write is a guest power-off carrying the value written
/// (QEMU `hw/misc/debugexit.c`; the architecture page's "power control before ACPI").
final class DebugExitPort: PortDevice {
    /// The port QEMU's test setup uses (`-device isa-debug-exit,iobase=0x501`).
    static let port: UInt16 = 0x501
    /// Ports claimed (QEMU's default iosize is 2).
    static let length: UInt16 = 2

    private let onExit: (GuestExit) -> Void

    init(onExit: @escaping (GuestExit) -> Void) { self.onExit = onExit }

    func read(offset: UInt64, size: Int) -> UInt64 { UInt64.max }

    func write(offset: UInt64, size: Int, value: UInt64) {
        onExit(.poweroff(code: UInt32(truncatingIfNeeded: value)))
    }
}
