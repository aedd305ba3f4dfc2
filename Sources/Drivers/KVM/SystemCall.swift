import CVirtShims
import Glibc
import VirtBase

/// Small wrappers that turn a failing system call into a `VirtError` naming the call and the object.
enum SystemCall {
    /// The text of `strerror(code)`.
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// A system error for `call` on `object` with the current errno and an optional remedy.
    static func error(_ call: String, _ object: String, errno code: Int32 = errno, remedy: String? = nil)
        -> VirtError
    {
        var message = "\(call) on \(object) failed: \(describe(code))"
        if let remedy { message += "; \(remedy)" }
        return VirtError(.systemError, .kvm, message, errno: code)
    }

    /// `ioctl(fd, request, pointer)`, retrying EINTR; throws with the call's name on failure.
    @discardableResult
    static func ioctl(
        _ fd: Int32, _ request: UInt, _ pointer: UnsafeMutableRawPointer?, name: String, object: String
    ) throws -> Int32 {
        while true {
            let result = cvirt_ioctl_pointer(fd, request, pointer)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw error(name, object)
        }
    }

    /// `ioctl(fd, request, value)`, retrying EINTR; throws with the call's name on failure.
    @discardableResult
    static func ioctl(_ fd: Int32, _ request: UInt, value: UInt, name: String, object: String) throws
        -> Int32
    {
        while true {
            let result = cvirt_ioctl_value(fd, request, value)
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw error(name, object)
        }
    }

    /// `pread` of exactly `count` bytes (short reads at end of file return what was read).
    static func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int64) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// `pwrite` of exactly `count` bytes; -1 on failure.
    static func pwriteFully(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: Int64) -> Int {
        var done = 0
        while done < count {
            let n = pwrite(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            done += n
        }
        return done
    }

    /// `write` of all bytes, retrying EINTR; returns false on any other failure (including EAGAIN).
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let n = write(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}
