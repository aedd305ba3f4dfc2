import CVirtShims
import Glibc
import VirtBase

/// A dedicated, named OS thread (never the Swift cooperative pool: vCPUs and device I/O block in the kernel).
final class OSThread: @unchecked Sendable {
    private final class Box: @unchecked Sendable {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// The pthread handle.
    let handle: pthread_t
    private var joined = false

    /// Starts `body` on a new thread named `name` (Linux keeps 15 bytes).
    init(name: String, body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = cvirt_thread_create(
            &thread,
            { context in
                let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                _ = box.name.withCString { cvirt_set_current_thread_name($0) }
                box.body()
                return nil
            }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemCall.error("pthread_create", "thread '\(name)'", errno: rc)
        }
        handle = thread
    }

    /// Waits for the thread to end (once).
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }

    /// CPU time the thread has used, in nanoseconds (0 once it has been joined).
    var cpuTimeNanoseconds: UInt64 {
        guard !joined else { return 0 }
        return UInt64(max(0, cvirt_thread_cpu_time_ns(handle)))
    }
}

/// A mutex with a condition variable, for mailboxes and waits between OS threads.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (holding the mutex around each check) until `predicate` is true.
    func wait(until predicate: () -> Bool) {
        pthread_mutex_lock(mutex)
        while !predicate() { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Wakes every waiter after changing state with `body`.
    func broadcast(_ body: () -> Void = {}) {
        pthread_mutex_lock(mutex)
        body()
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
