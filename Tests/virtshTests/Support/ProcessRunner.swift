import Foundation

/// What a finished process printed and returned.
struct ProcessResult: Equatable, CustomStringConvertible {
    var stdout: String
    var stderr: String
    var status: Int32

    var description: String { "status \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs the built `virtsh` and the real `virsh` with the same arguments, for side-by-side comparisons.
enum ProcessRunner {
    /// `virtsh` sits beside the test bundle in the build directory.
    static var virtshPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("virtsh").path
    }

    /// The real virsh, when libvirt-clients is installed.
    static let virshPath: String? = ["/usr/bin/virsh", "/usr/local/bin/virsh"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static var hasVirsh: Bool { virshPath != nil }

    /// Runs `virtsh ARGS` (stdin from `input`, or /dev/null).
    static func virtsh(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws
        -> ProcessResult
    {
        try run(virtshPath, arguments, input: input, environment: environment)
    }

    /// Runs `virsh ARGS` in the C locale.
    static func virsh(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws
        -> ProcessResult
    {
        guard let virshPath else { throw CocoaError(.fileNoSuchFile) }
        return try run(virshPath, arguments, input: input, environment: environment)
    }

    /// Runs `path ARGS`. With `detached`, output goes to /dev/null and only the status is returned: for
    /// commands that leave a daemon behind holding inherited descriptors (`tmux new-session`).
    static func run(
        _ path: String, _ arguments: [String], input: String?, environment: [String: String], detached: Bool = false
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        env.removeValue(forKey: "VIRTSH_DEFAULT_URI")
        env.removeValue(forKey: "LIBVIRT_DEFAULT_URI")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if detached { return try spawnDetached(path, arguments) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        // Read both pipes before waiting, so a full pipe never blocks the child. `errData` is written only by the
        // reader thread and read only after that thread has finished, hence `nonisolated(unsafe)`.
        nonisolated(unsafe) var errData = Data()
        let errReader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errReader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errReader.isFinished { usleep(1000) }
        return ProcessResult(
            stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
            status: process.terminationStatus)
    }

    /// posix_spawn + waitpid with /dev/null for every standard descriptor (Foundation's Process does not
    /// notice the exit of a client whose daemon child keeps running, such as `tmux new-session -d`).
    private static func spawnDetached(_ path: String, _ arguments: [String]) throws -> ProcessResult {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        // The calling test thread blocks most signals; the child must not inherit that mask (a tmux server
        // would then never see SIGCHLD/SIGHUP and outlive the test).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        SpawnedProcess.startWithDefaultSignals(&attributes)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ProcessResult(stdout: "", stderr: "", status: (status >> 8) & 0xff)
    }

    /// `CPU time:` lines depend on the clock; replace their value.
    static func maskCPUTime(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("CPU time:") ? "CPU time:       <masked>" : String(line)
        }.joined(separator: "\n")
    }
}
