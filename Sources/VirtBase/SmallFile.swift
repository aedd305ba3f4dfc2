#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads and atomic writes of small files (pid files, status files, /proc entries) with
/// plain POSIX calls, for the processes that link no Foundation.
public enum SmallFile {
    /// Reads at most `limit` bytes of `path`; nil when the file does not exist.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(VirtError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ESRCH { return nil }
            throw failure("cannot read '\(path)'")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                // A process that exited between open and read: its /proc files answer ESRCH.
                if errno == ESRCH { return nil }
                throw failure("cannot read '\(path)'")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<min(count, limit - bytes.count)])
        }
        return bytes
    }

    /// Reads `path` as UTF-8 text; nil when the file does not exist.
    public static func readText(_ path: String, limit: Int = 1 << 20) throws(VirtError) -> String? {
        try read(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes `bytes` to `path` through a temporary file and rename, so readers see the old or the new
    /// content, never a part.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(VirtError) {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot write '\(path)'") }
        do {
            try writeAll(fd, bytes, what: path)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot write '\(path)'")
            unlink(temporary)
            throw error
        }
    }

    /// Writes all of `bytes` to the open descriptor `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(VirtError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write '\(what)'")
            }
            offset += written
        }
    }

    /// Removes `path`; a missing file is not an error.
    public static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Whether something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and its missing parents with `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(VirtError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw failure("cannot create directory '\(prefix)'") }
        }
    }

    /// A `systemError` naming `what` and the current errno.
    public static func failure(_ what: String) -> VirtError {
        let code = errno
        return VirtError(.systemError, .domain, "\(what): \(String(cString: strerror(code)))", errno: code)
    }
}
