import Foundation
import VirtTestSupport

/// Builds the freestanding test guests in `Guests/` with the system gcc, once per test run, into a temp dir.
enum GuestImages {
    /// The guests and their sources (every guest also links `start.S`).
    static let names = ["hello", "echo", "irqecho", "disk", "reset", "ticks"]

    /// Where the sources live (beside this file).
    static let sourceDirectory = FreestandingGuests.sourceDirectory

    /// Why guests cannot be built here, or nil when gcc with 32-bit support works.
    static let unavailableReason: String? = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") else { return "gcc is not installed" }
        return built.error
    }()

    /// The build result: a directory of `<name>.elf` files, or an error text.
    private static let built: (directory: URL?, error: String?) = {
        let directory = FreestandingGuests.scratchDirectory("swift-virt-guests")
        if let failure = FreestandingGuests.build(names, into: directory) { return (nil, failure) }
        let elf = directory.appendingPathComponent("bzimage.elf").path
        let flat = directory.appendingPathComponent("bzimage.bin").path
        let compiled = run(
            "/usr/bin/gcc",
            [
                "-m64", "-mno-red-zone", "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-nostdlib", "-static",
                "-O1", "-Wall", "-Werror", "-Wl,-T," + sourceDirectory.appendingPathComponent("guest.ld").path,
                "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments", "-o", elf,
                sourceDirectory.appendingPathComponent("bzstart.S").path,
                sourceDirectory.appendingPathComponent("bzimage.c").path,
            ])
        if compiled.status != 0 { return (nil, "gcc -m64 failed for the bzImage guest: \(compiled.output)") }
        let copied = run("/usr/bin/objcopy", ["-O", "binary", elf, flat])
        guard copied.status == 0, let payload = FileManager.default.contents(atPath: flat) else {
            return (nil, "objcopy failed for the bzImage guest: \(copied.output)")
        }
        let image = BzImageFixture.image(payload: [UInt8](payload), initSize: 0x10000)
        guard
            FileManager.default.createFile(
                atPath: directory.appendingPathComponent("bzimage").path, contents: Data(image))
        else {
            return (nil, "cannot write the bzImage guest")
        }
        return (directory, nil)
    }()

    /// The bzImage test guest: the 64-bit `bzimage.c` behind a boot-protocol 2.15 setup header.
    static var bzImagePath: String { built.directory!.appendingPathComponent("bzimage").path }

    /// The path of a built guest.
    static func path(_ name: String) -> String {
        built.directory!.appendingPathComponent("\(name).elf").path
    }

    /// Longest a helper program may run before it is killed, so a hung peer cannot hang the tests.
    static let helperTimeoutSeconds = 60.0

    /// Runs a program to completion (killed after `helperTimeoutSeconds`); returns its status and combined output.
    /// With `separateErrors`, only standard output is returned (standard error is discarded).
    static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, separateErrors: Bool = false
    ) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = separateErrors ? FileHandle.nullDevice : pipe
        if let input {
            let stdin = Pipe()
            process.standardInput = stdin
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        do { try process.run() } catch { return (-1, "\(error)") }
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + helperTimeoutSeconds) { [process] in
            if process.isRunning { kill(pid, SIGKILL) }
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
