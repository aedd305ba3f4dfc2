import CVirtShims
import Glibc
import VirtBase

/// Extended attributes of a file (following symlinks, as the label calls do), as UTF-8 text.
enum ExtendedAttribute {
    /// The largest value read back: labels and owners are short.
    static let maximumSize = 4096

    /// The attribute's value, or nil when the file does not have it.
    static func get(_ path: String, _ name: String) throws(VirtError) -> String? {
        var buffer = [UInt8](repeating: 0, count: maximumSize)
        let count = buffer.withUnsafeMutableBytes { getxattr(path, name, $0.baseAddress, $0.count) }
        guard count >= 0 else {
            let code = errno
            if code == ENODATA { return nil }
            throw failure("read", name, path, code)
        }
        var bytes = buffer[0..<count]
        while bytes.last == 0 { bytes = bytes.dropLast() }  // SELinux stores a trailing NUL
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sets the attribute.
    static func set(_ path: String, _ name: String, _ value: String) throws(VirtError) {
        let bytes = Array(value.utf8)
        let result = bytes.withUnsafeBytes { setxattr(path, name, $0.baseAddress, $0.count, 0) }
        guard result == 0 else { throw failure("write", name, path, errno) }
    }

    /// Removes the attribute; a missing one is fine.
    static func remove(_ path: String, _ name: String) throws(VirtError) {
        guard removexattr(path, name) == 0 || errno == ENODATA else { throw failure("remove", name, path, errno) }
    }

    private static func failure(_ verb: String, _ name: String, _ path: String, _ code: Int32) -> VirtError {
        var message = "cannot \(verb) extended attribute '\(name)' of '\(path)': \(String(cString: strerror(code)))"
        if code == ENOTSUP {
            message += " (the file system does not store extended attributes; set remember_owner = 0 in kvm.conf)"
        } else if code == EPERM && name.hasPrefix("trusted.") {
            message += " (trusted.* attributes need CAP_SYS_ADMIN: run the supervisor as root)"
        }
        return VirtError(.systemError, .security, message, errno: code)
    }
}

/// An exclusive `flock` on a file for the duration of one remember-and-relabel step, so that two supervisors
/// labelling a shared disk at once see each other's reference counts.
enum FileMetadataLock {
    /// Runs `body` while holding the lock on `path`.
    static func withLock<T>(_ path: String, _ body: () throws(VirtError) -> T) throws(VirtError) -> T {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            throw VirtError(
                .systemError, .security, "cannot open '\(path)' to relabel it: \(String(cString: strerror(code)))",
                errno: code)
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            let code = errno
            if code == EINTR { continue }
            throw VirtError(
                .systemError, .security, "cannot lock '\(path)' to relabel it: \(String(cString: strerror(code)))",
                errno: code)
        }
        return try body()
    }
}
