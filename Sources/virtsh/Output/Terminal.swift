import Glibc

/// Where the shell writes: standard output (buffered, flushed after every command and before any error)
/// and standard error. All writes go through `write(2)`, so nothing depends on C stdio's globals.
final class Terminal {
    private var pending: [UInt8] = []
    /// Descriptors written to; tests of the binary see the real ones.
    private let outFD: Int32
    private let errFD: Int32

    init(outFD: Int32 = STDOUT_FILENO, errFD: Int32 = STDERR_FILENO) {
        self.outFD = outFD
        self.errFD = errFD
    }

    /// Queues `text` for standard output.
    func print(_ text: String) { pending.append(contentsOf: text.utf8) }

    /// Writes `error: MESSAGE` to standard error, after flushing standard output (virsh's order).
    func error(_ message: String) {
        flush()
        Self.writeAll(errFD, Array("error: \(message)\n".utf8))
    }

    /// Writes raw text to standard error.
    func printError(_ text: String) {
        flush()
        Self.writeAll(errFD, Array(text.utf8))
    }

    /// Writes what is queued for standard output.
    func flush() {
        guard !pending.isEmpty else { return }
        Self.writeAll(outFD, pending)
        pending.removeAll(keepingCapacity: true)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
