#if canImport(Glibc)
    import Glibc
#endif

/// Starts blocking work on its own OS thread, never on the Swift cooperative pool (accept loops, socket
/// reads, `waitpid`).
public enum DetachedThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached pthread. Throws when the system cannot create a thread.
    public static func start(_ what: String, _ body: @escaping @Sendable () -> Void) throws(VirtError) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let result = pthread_create(
            &thread, &attributes,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw VirtError(
                .systemError, .rpc, "cannot start a thread for \(what): \(String(cString: strerror(result)))",
                errno: result)
        }
    }
}
