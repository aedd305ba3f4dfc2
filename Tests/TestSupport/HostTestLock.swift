import Glibc

/// A lock on one host-wide resource that tests in different targets (and processes) change, held for a whole
/// test: `/tmp/swift-virt-tests-<name>.lock` with `flock`. Tests that grant cgroup real-time runtime take
/// `realtime`, because the kernel's real-time budget under the top cpu group is one pool.
public final class HostTestLock {
    private let fd: Int32

    /// Blocks until the lock is held.
    public init(_ name: String) {
        fd = open("/tmp/swift-virt-tests-\(name).lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if fd >= 0 {
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }
}
