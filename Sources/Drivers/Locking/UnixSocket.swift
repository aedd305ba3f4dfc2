import CVirtShims
import Glibc
import VirtBase

/// Unix-domain stream sockets for the lock protocol: listen, connect with a deadline, peer credentials.
/// (The seam to the shared socket helpers in CVirtShims once they land.)
public enum UnixSocket {
    /// Longest path a `sockaddr_un` holds, without the terminating NUL.
    public static let maximumPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    private static func address(_ path: String) throws(VirtError) -> sockaddr_un {
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathBytes else {
            throw VirtError(
                .invalidArgument, .locking,
                "socket path '\(path)' is \(bytes.count) bytes, longer than the \(maximumPathBytes)-byte Unix limit; "
                    + "use a shorter run directory")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// A listening socket at `path` with file mode `mode`, set before anyone can connect (VirtBase's shared
    /// `cvirt_unix_listen`). A stale socket file is replaced.
    public static func listen(path: String, mode: mode_t, backlog: Int32 = 128) throws(VirtError) -> Int32 {
        _ = try address(path)  // the path-length check, with its message
        let fd = cvirt_unix_listen(path, mode, backlog)
        guard fd >= 0 else { throw Posix.failure("cannot listen on the socket '\(path)'") }
        return fd
    }

    /// Connects to `path`; retries while nobody listens yet (ENOENT, ECONNREFUSED) until `timeoutMs`
    /// passes when `waitForListener`, else fails at once. The descriptor is blocking and close-on-exec.
    public static func connect(path: String, timeoutMs: Int, waitForListener: Bool) throws(VirtError) -> Int32 {
        var address = try address(path)
        let deadline = Posix.monotonicNanoseconds() + UInt64(max(timeoutMs, 0)) * 1_000_000
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Posix.failure("cannot create a Unix socket") }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 { return fd }
            let code = errno
            close(fd)
            let retriable = code == ENOENT || code == ECONNREFUSED || code == EAGAIN || code == EINTR
            guard retriable, waitForListener || code == EAGAIN || code == EINTR,
                Posix.monotonicNanoseconds() < deadline
            else {
                if retriable && waitForListener {
                    throw VirtError(
                        .operationTimeout, .locking,
                        "no lock daemon answered on '\(path)' within \(timeoutMs) ms", errno: code)
                }
                throw Posix.failure("cannot connect to the lock daemon at '\(path)'", code)
            }
            usleep(2000)
        }
    }

    /// The uid and pid of the peer of a connected Unix socket (SO_PEERCRED).
    public static func peerCredentials(_ fd: Int32) throws(VirtError) -> (uid: uid_t, pid: pid_t) {
        // struct ucred is { pid_t pid; uid_t uid; gid_t gid; } (socket(7)).
        var credentials: (pid_t, uid_t, gid_t) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else {
            throw Posix.failure("cannot read the peer credentials of a lock daemon client")
        }
        return (credentials.1, credentials.0)
    }
}
