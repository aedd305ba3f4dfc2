import Glibc
import VirtBase

/// Small POSIX helpers shared by the client, the lock table and the daemon.
public enum Posix {
    /// `strerror(code)`.
    public static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// A `systemError` naming the call and the object.
    public static func failure(_ what: String, _ code: Int32 = errno) -> VirtError {
        VirtError(.systemError, .locking, "\(what): \(describe(code))", errno: code)
    }

    /// Writes all of `bytes`, retrying on EINTR and short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(VirtError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write to the lock daemon connection")
            }
            offset += written
        }
    }

    /// Sets or clears FD_CLOEXEC.
    public static func setCloseOnExec(_ fd: Int32, _ on: Bool) throws(VirtError) {
        let flags = fcntl(fd, F_GETFD)
        guard flags >= 0 else { throw failure("cannot read the flags of descriptor \(fd)") }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        guard fcntl(fd, F_SETFD, wanted) == 0 else { throw failure("cannot set the flags of descriptor \(fd)") }
    }

    /// Sets or clears O_NONBLOCK.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool) throws(VirtError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw failure("cannot read the status flags of descriptor \(fd)") }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        guard fcntl(fd, F_SETFL, wanted) == 0 else { throw failure("cannot set the status flags of descriptor \(fd)") }
    }

    /// The kernel's host name.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The canonical absolute path of an existing file (symbolic links and `..` resolved).
    public static func canonicalPath(_ path: String) throws(VirtError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw failure("cannot resolve the path '\(path)'")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Creates `path` and its missing parents with `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(VirtError) {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw failure("cannot create the directory '\(prefix)'")
            }
        }
    }

    /// The whole content of a (small) file, nil when it cannot be opened.
    public static func readFile(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// Reads `fd` from its current offset to the end, at most `limit` bytes.
    public static func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count < limit {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            result.append(contentsOf: chunk[0..<got])
        }
        return result
    }

    /// Writes `bytes` to `path` atomically (temporary file + rename) with `mode`.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(VirtError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create '\(temporary)'") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let code = errno
                close(fd)
                throw failure("cannot write '\(temporary)'", code)
            }
            offset += written
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("cannot rename '\(temporary)' to '\(path)'") }
    }

    /// Monotonic time in nanoseconds.
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
