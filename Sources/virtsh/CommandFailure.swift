import VirtCore

/// A failed command's error lines; the shell prints each as `error: LINE`.
struct CommandFailure: Error {
    var lines: [String]
    init(_ lines: String...) { self.lines = lines }
    init(lines: [String]) { self.lines = lines }
}

/// Opening the connection failed (`failed to connect to the hypervisor`).
struct ConnectionFailure: Error {
    var underlying: VirtError
}
