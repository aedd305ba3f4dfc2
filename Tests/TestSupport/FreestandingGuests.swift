import Foundation
import Glibc
import Synchronization

/// Builds the freestanding test guests of `Tests/KVMTests/Guests` (each `<name>.c` linked with `start.S` into a
/// 32-bit PVH ELF) with the system gcc. Shared by every test target that runs real guests.
public enum FreestandingGuests {
    /// Where the guest sources live.
    public static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("KVMTests/Guests")

    /// Why guests cannot run on this host (no usable /dev/kvm, no gcc), or nil.
    public static var hostProblem: String? {
        guard access("/dev/kvm", R_OK | W_OK) == 0 else { return "/dev/kvm cannot be opened" }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") else { return "gcc is missing" }
        return nil
    }

    /// A fresh directory for this test process's images, removed when the process exits.
    public static func scratchDirectory(_ prefix: String) -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let first = scratch.withLock { paths in
            paths.append(directory.path)
            return paths.count == 1
        }
        if first {
            atexit {
                for path in FreestandingGuests.scratch.withLock({ $0 }) {
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }
        return directory
    }

    /// Builds `<name>.elf` for each of `names` into `directory`; returns why it failed, or nil.
    public static func build(_ names: [String], into directory: URL) -> String? {
        for name in names {
            let arguments = [
                "-m32", "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-nostdlib", "-static", "-O1",
                "-Wall", "-Werror", "-Wl,-T," + sourceDirectory.appendingPathComponent("guest.ld").path,
                "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
                "-o", directory.appendingPathComponent("\(name).elf").path,
                sourceDirectory.appendingPathComponent("start.S").path,
                sourceDirectory.appendingPathComponent("\(name).c").path,
            ]
            let (status, output) = runQuietly("/usr/bin/gcc", arguments)
            if status != 0 {
                return "gcc -m32 failed for the \(name) guest (install gcc-multilib): \(output)"
            }
        }
        return nil
    }

    private static let scratch = Mutex<[String]>([])

    /// Runs a program to its end with posix_spawn, standard error captured; returns its status and that text.
    private static func runQuietly(_ path: String, _ arguments: [String]) -> (Int32, String) {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { return (-1, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            return (-1, "cannot run \(path): \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output.append(contentsOf: chunk[0..<count])
        }
        close(pipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: output, as: UTF8.self))
    }
}
