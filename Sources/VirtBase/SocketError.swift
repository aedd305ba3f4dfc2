#if canImport(Glibc)
    import Glibc
#endif

/// Why a socket operation on the wire-protocol helpers failed.
public enum SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The deadline passed before the peer answered or the connection completed.
    case timedOut(milliseconds: Int)
    /// The peer closed the connection in the middle of a frame (or before the reply).
    case peerClosed
    /// The bytes received do not form a valid frame.
    case frame(FrameError)
    /// A system call failed.
    case system(call: String, errno: Int32)

    /// A message for people.
    public var description: String {
        switch self {
        case .timedOut(let milliseconds): "no answer within \(milliseconds) ms"
        case .peerClosed: "the peer closed the connection"
        case .frame(let error): error.description
        case .system(let call, let errno): "\(call) failed: \(String(cString: strerror(errno)))"
        }
    }

    /// The `errno` of the last failed call, as a `SocketError`.
    static func lastError(_ call: String) -> SocketError { .system(call: call, errno: Glibc.errno) }
}
