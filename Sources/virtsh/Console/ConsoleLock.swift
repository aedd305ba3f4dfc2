import Glibc

/// One console session per domain: a POSIX write lock on the pty, held while the session runs (released
/// when the descriptor closes). `--force` asks the holder to leave (SIGUSR1, which its relay treats as
/// "taken over") and waits for the lock.
enum ConsoleLock {
    /// How long `--force` waits for the other session to let go.
    static let forceWaitMicroseconds: UInt32 = 2_000_000
    /// Pause between attempts while waiting.
    static let retryMicroseconds: UInt32 = 20_000

    /// Takes the lock on `fd` or fails with libvirt's message for a console already in use.
    static func acquire(fd: Int32, domain: String, force: Bool) throws {
        if tryLock(fd) { return }
        guard force else {
            throw CommandFailure(
                "operation failed: Active console session exists for this domain; "
                    + "use virtsh console \(domain) --force to take it over")
        }
        if let holder = holder(fd), holder != getpid() { kill(holder, ConsoleRelay.takeOverSignal) }
        var waited: UInt32 = 0
        while waited < forceWaitMicroseconds {
            usleep(retryMicroseconds)
            waited += retryMicroseconds
            if tryLock(fd) { return }
        }
        throw CommandFailure("operation failed: the console session of domain '\(domain)' did not let go")
    }

    private static func request(_ type: Int32) -> flock {
        var lock = flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        return lock
    }

    private static func tryLock(_ fd: Int32) -> Bool {
        var lock = request(F_WRLCK)
        return fcntl(fd, F_SETLK, &lock) == 0
    }

    /// The process holding the lock, if any.
    private static func holder(_ fd: Int32) -> pid_t? {
        var lock = request(F_WRLCK)
        guard fcntl(fd, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return nil }
        return lock.l_pid
    }
}
