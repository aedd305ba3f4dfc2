import Foundation
import KVM

/// Runs a test guest on our hypervisor or under QEMU and collects its console output.
enum GuestRunner {
    /// A disk for a run: an image path, readonly flag, serial.
    struct Disk {
        var path: String
        var readonly: Bool
        var serial: String
    }

    /// The configuration for `guest` with output to `console` (a file).
    static func configuration(
        _ guest: String, cmdline: String, console: URL, disks: [Disk] = [], memoryMiB: UInt64 = 32,
        serialKind: SerialConfiguration.Kind = .file, cpuFeatures: [HypervisorConfiguration.CPUFeature] = []
    ) -> HypervisorConfiguration {
        let serial: SerialConfiguration =
            serialKind == .file
            ? SerialConfiguration(kind: .file, source: FileSource(path: console.path))
            : SerialConfiguration(kind: serialKind, logFile: FileSource(path: console.path))
        return HypervisorConfiguration(
            name: "test-\(guest)", uuid: UUID().uuidString.lowercased(), memoryBytes: memoryMiB << 20, vcpus: 1,
            cpuFeatures: cpuFeatures, kernel: FileSource(path: GuestImages.path(guest)), cmdline: cmdline,
            disks: disks.enumerated().map { i, d in
                DiskConfiguration(
                    source: FileSource(path: d.path), readonly: d.readonly, serial: d.serial,
                    target: "vd\(Character(UnicodeScalar(UInt8(97 + i))))")
            },
            serial: serial)
    }

    /// Boots `guest` on our hypervisor until it exits; returns the exit and the console output.
    static func runOurs(
        _ guest: String, cmdline: String = "", disks: [Disk] = [], in directory: URL
    ) throws -> (exit: GuestExit, output: String) {
        let console = directory.appendingPathComponent("\(guest).ours.txt")
        let vm = try VirtualMachine(
            configuration: configuration(guest, cmdline: cmdline, console: console, disks: disks))
        try vm.start(paused: false)
        let watchdog = Watchdog(vm, seconds: GuestImages.helperTimeoutSeconds)
        let exit = vm.waitForExit()
        watchdog.cancel()
        return (exit, (try? String(contentsOf: console, encoding: .utf8)) ?? "")
    }

    /// Boots `guest` under QEMU microvm with the same devices; returns QEMU's status and the console output.
    static func runQEMU(
        _ guest: String, cmdline: String = "", disks: [Disk] = [], input: String? = nil, in directory: URL
    ) -> (status: Int32, output: String) {
        let console = directory.appendingPathComponent("\(guest).qemu.txt")
        var arguments = [
            "-M", "microvm,acpi=off", "-enable-kvm", "-cpu", "kvm64", "-m", "32",
            "-global", "virtio-mmio.force-legacy=false", "-device", "isa-debug-exit,iobase=0x501",
            // microvm has no keyboard controller by default; ours has one for reset and the power button.
            "-device", "i8042",
            "-no-reboot", "-nodefaults", "-nographic", "-display", "none",
        ]
        if let input {
            // QEMU 7.2's file chardev cannot read input, so the console is stdio: input piped in, output read back.
            arguments += [
                "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console", "-kernel",
                GuestImages.path(guest),
            ]
            if !cmdline.isEmpty { arguments += ["-append", cmdline] }
            return GuestImages.run(TestEnvironment.qemuPath, arguments, input: Data(input.utf8), separateErrors: true)
        } else {
            arguments += ["-serial", "file:\(console.path)"]
        }
        for (i, disk) in disks.enumerated() {
            arguments += [
                "-drive", "if=none,id=d\(i),format=raw,file=\(disk.path)\(disk.readonly ? ",readonly=on" : "")",
                "-device", "virtio-blk-device,drive=d\(i),serial=\(disk.serial)",
            ]
        }
        arguments += ["-kernel", GuestImages.path(guest)]
        if !cmdline.isEmpty { arguments += ["-append", cmdline] }
        let result = GuestImages.run(TestEnvironment.qemuPath, arguments)
        return (result.status, (try? String(contentsOf: console, encoding: .utf8)) ?? "")
    }
}

/// Stops a VM that runs longer than a test allows, so a misbehaving guest fails the test instead of hanging it.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    init(_ vm: VirtualMachine, seconds: Double) {
        // Weak: a cancelled watchdog must not keep the machine (and its guest RAM) alive until it would have fired.
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self, weak vm] in
            let fire = lock.withLock { !cancelled }
            if fire { vm?.stop() }
        }
    }

    /// The run ended in time.
    func cancel() { lock.withLock { cancelled = true } }
}
