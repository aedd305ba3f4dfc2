import Foundation
import KVM
import Testing

/// The disk guest on virtio-blk: reads, writes, flush, get-id, read-only enforcement, out-of-range requests.
@Suite("disk guest", .serialized)
struct DiskGuestTests {
    static let capacitySectors = 128

    /// Two 64 KiB images: a writable one and a read-only one, each with a marker in sector 0.
    static func makeImages(in directory: URL, suffix: String) throws -> [GuestRunner.Disk] {
        var disks: [GuestRunner.Disk] = []
        for (name, readonly) in [("alpha", false), ("beta", true)] {
            var bytes = [UInt8](repeating: 0, count: capacitySectors * 512)
            let marker = Array("\(name) disk sector zero".utf8)
            bytes.replaceSubrange(0..<marker.count, with: marker)
            let url = directory.appendingPathComponent("\(name)-\(suffix).img")
            try Data(bytes).write(to: url)
            disks.append(GuestRunner.Disk(path: url.path, readonly: readonly, serial: name))
        }
        return disks
    }

    static let expected = """
        disks: 2
        disk alpha: capacity=128 ro=0
        read sector 0: status=0
        sector 0: alpha disk sector zero
        write sector 1: status=0
        flush: status=0
        read sector 1: status=0
        sector 1: written by the guest to alpha
        read past the end: status=1
        read across the end: status=1
        write past the end: status=1
        disk beta: capacity=128 ro=1
        read sector 0: status=0
        sector 0: beta disk sector zero
        write sector 1: status=1
        flush: status=0
        read sector 1: status=0
        sector 1: 
        read past the end: status=1
        read across the end: status=1
        write past the end: status=1
        disk test done

        """

    // Needs /dev/kvm and gcc -m32; skipped (and reported) where either is missing.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func readsWritesAndEnforcesLimits() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let disks = try Self.makeImages(in: directory, suffix: "ours")
        let (exit, output) = try GuestRunner.runOurs("disk", disks: disks, in: directory)
        #expect(exit == .poweroff(code: 0))
        #expect(output == Self.expected)
        let writable = try Data(contentsOf: URL(fileURLWithPath: disks[0].path))
        let readonly = try Data(contentsOf: URL(fileURLWithPath: disks[1].path))
        #expect(writable.count == Self.capacitySectors * 512)
        #expect(String(decoding: writable[512..<(512 + 29)], as: UTF8.self) == "written by the guest to alpha")
        #expect(readonly[512..<1024].allSatisfy { $0 == 0 }, "the read-only image must be unchanged")
    }

    // QEMU microvm is the reference for the virtio-blk device; skipped visibly where QEMU is missing.
    @Test(.enabled(if: TestEnvironment.canCompareWithQEMU))
    func matchesQEMU() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = try GuestRunner.runOurs(
            "disk", disks: try Self.makeImages(in: directory, suffix: "ours"), in: directory)
        let qemuDisks = try Self.makeImages(in: directory, suffix: "qemu")
        let qemu = GuestRunner.runQEMU("disk", disks: qemuDisks, in: directory)
        #expect(qemu.status == 1, "QEMU exits with (0 << 1) | 1 after the guest's power-off")
        #expect(ours.output == qemu.output)
        let oursImage = try Data(
            contentsOf: URL(fileURLWithPath: directory.appendingPathComponent("alpha-ours.img").path))
        let qemuImage = try Data(contentsOf: URL(fileURLWithPath: qemuDisks[0].path))
        #expect(oursImage == qemuImage)
    }
}
