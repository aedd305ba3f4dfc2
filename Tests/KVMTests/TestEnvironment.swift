import Foundation
import KVM

/// What this host offers the KVM tests; each missing piece makes the dependent tests skip visibly.
enum TestEnvironment {
    /// /dev/kvm is present and usable by this process.
    static let hasKVM: Bool = {
        let ok = KVMSystem.isUsable()
        if !ok { print("KVMTests: /dev/kvm is missing or not accessible; guest tests are skipped") }
        return ok
    }()

    /// Guests can be built and /dev/kvm works.
    static let canRunGuests: Bool = {
        guard hasKVM else { return false }
        if let reason = GuestImages.unavailableReason {
            print("KVMTests: cannot build test guests (\(reason)); guest tests are skipped")
            return false
        }
        return true
    }()

    /// The QEMU binary used as the reference peer.
    static let qemuPath = "/usr/bin/qemu-system-x86_64"

    /// QEMU is installed (and guests run), so outputs can be compared.
    static let canCompareWithQEMU: Bool = {
        guard canRunGuests else { return false }
        let ok = FileManager.default.isExecutableFile(atPath: qemuPath)
        if !ok { print("KVMTests: \(qemuPath) is missing; QEMU comparisons are skipped") }
        return ok
    }()

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-virt-kvm-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
