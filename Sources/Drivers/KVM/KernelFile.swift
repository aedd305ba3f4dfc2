import Glibc
import VirtBase

/// A kernel or initrd image opened for loading: positional reads straight into guest RAM, no full copy.
final class KernelFile {
    /// The path, for messages.
    let path: String
    /// What the file is (`kernel`, `initrd`), for messages.
    let role: String
    let fd: Int32
    /// Size in bytes.
    let size: UInt64
    private let owned: Bool

    init(_ source: FileSource, role: String) throws {
        path = source.path
        self.role = role
        if let inherited = source.fd {
            fd = inherited
            owned = false
        } else {
            let opened = open(source.path, O_RDONLY | O_CLOEXEC)
            if opened < 0 {
                throw SystemCall.error("open", "\(role) '\(source.path)'", remedy: "check the path and its permissions")
            }
            fd = opened
            owned = true
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let saved = errno
            if owned { close(fd) }
            throw SystemCall.error("fstat", "\(role) '\(source.path)'", errno: saved)
        }
        size = UInt64(info.st_size)
    }

    deinit { if owned { close(fd) } }

    /// Up to `count` bytes from `offset` (fewer at end of file).
    func read(offset: UInt64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { SystemCall.preadFully(fd, $0.baseAddress!, count, Int64(offset)) }
        if n < 0 { throw SystemCall.error("pread", "\(role) '\(path)'") }
        return Array(buffer[0..<n])
    }

    /// Reads `count` bytes at `offset` into guest RAM at `address`; the whole range must exist in both.
    func load(offset: UInt64, count: UInt64, into memory: GuestMemory, at address: UInt64) throws {
        guard offset <= size, count <= size - offset else {
            throw VirtError(
                .invalidArgument, .kvm,
                "\(role) '\(path)' is truncated: needs \(count) bytes at offset \(offset) but has \(size)")
        }
        guard let target = memory.pointer(address, length: count) else {
            throw VirtError(
                .configUnsupported, .kvm,
                "\(role) '\(path)' (\(count) bytes at 0x\(String(address, radix: 16))) does not fit in guest RAM "
                    + "of \(memory.size >> 20) MiB; give the guest more memory")
        }
        if count == 0 { return }
        let n = SystemCall.preadFully(fd, target, Int(count), Int64(offset))
        if n != Int(count) { throw SystemCall.error("pread", "\(role) '\(path)'") }
    }
}
