#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on a pid file: the lock, not the pid in it, says whether its owner lives, so a
/// stale file or a recycled pid can never be mistaken for a running owner. Holders may unlink the file
/// while they hold the lock; `acquire` checks that the file it locked is still the one at the path.
public enum PIDFileLock {
    /// Locks `path` without waiting, creating it (mode 0644) when `create` is set. Returns the descriptor
    /// that holds the lock (close it to release), or nil when another process holds it — or, without
    /// `create`, when there is no file.
    public static func acquire(_ path: String, create: Bool) throws(VirtError) -> Int32? {
        while true {
            let fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                if errno == ENOENT && !create { return nil }
                throw SmallFile.failure("cannot open pid file '\(path)'")
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK { return nil }
                throw VirtError(
                    .systemError, .domain, "cannot lock pid file '\(path)': \(String(cString: strerror(code)))",
                    errno: code)
            }
            var locked = stat()
            var current = stat()
            if fstat(fd, &locked) == 0 && stat(path, &current) == 0 && locked.st_ino == current.st_ino
                && locked.st_dev == current.st_dev
            {
                return fd
            }
            // The holder we waited behind removed the file: lock whatever is at the path now.
            close(fd)
            if !create && !SmallFile.exists(path) { return nil }
        }
    }

    /// Whether a live process holds the lock on `path`.
    public static func isHeld(_ path: String) -> Bool {
        guard let fd = try? acquire(path, create: false) else { return SmallFile.exists(path) }
        close(fd)
        return false
    }

    /// Replaces the content of the locked file `fd` with `pid`.
    public static func write(_ pid: Int32, to fd: Int32, path: String) throws(VirtError) {
        guard ftruncate(fd, 0) == 0 else { throw SmallFile.failure("cannot write pid file '\(path)'") }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SmallFile.failure("cannot write pid file '\(path)'") }
        try SmallFile.writeAll(fd, Array("\(pid)\n".utf8), what: path)
    }
}
