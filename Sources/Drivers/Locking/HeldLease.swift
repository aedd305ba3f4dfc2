import CVirtShims
import Glibc
import VirtBase

/// Identifies a resource within the daemon: its lockspace ("" = direct) and name.
public struct LeaseKey: Hashable, Codable, Sendable {
    /// The lockspace directory, "" for the direct lockspace.
    public var lockspace: String
    /// The resource name (the disk path when direct, a file name in the lockspace otherwise).
    public var resource: String

    /// A key.
    public init(lockspace: String, resource: String) {
        self.lockspace = lockspace
        self.resource = resource
    }

    /// Whether this key names a file inside an indirect lockspace.
    public var isIndirect: Bool { !lockspace.isEmpty }

    /// The file that carries the lock.
    public var path: String { isIndirect ? lockspace + "/" + resource : resource }
}

/// The device and inode of a locked file: two keys naming one file (a symbolic link, a second path)
/// still meet here.
public struct FileIdentity: Hashable, Codable, Sendable {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
}

/// One lock held by the daemon: an open file description with an OFD lock on byte 0.
public struct HeldLease: Codable, Sendable {
    /// The resource.
    public var key: LeaseKey
    /// The descriptor carrying the lock (kept open as long as the lease lives).
    public var fd: Int32
    /// Shared or exclusive.
    public var mode: LeaseMode
    /// What people call it.
    public var label: String
    /// The locked file.
    public var file: FileIdentity

    /// Opens the resource's file and locks byte 0. Returns `.busy` (with the descriptor closed) when
    /// someone else holds a conflicting lock; then `holderText` is what an indirect lease file says
    /// about its holder.
    static func take(key: LeaseKey, mode: LeaseMode, label: String) throws(VirtError) -> TakeResult {
        let flags: Int32
        if key.isIndirect {
            flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW
        } else {
            // A shared lock only needs read access; an exclusive one needs the file open for writing.
            flags = (mode == .exclusive ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
        }
        let fd = open(key.path, flags, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT && !key.isIndirect {
                throw VirtError(
                    .systemError, .locking, "cannot lock \(label): '\(key.path)' does not exist", errno: code)
            }
            throw Posix.failure("cannot open '\(key.path)' to lock \(label)", code)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw Posix.failure("cannot examine '\(key.path)'", code)
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFBLK else {
            close(fd)
            throw VirtError(
                .invalidArgument, .locking,
                "cannot lock \(label): '\(key.path)' is neither a regular file nor a block device")
        }
        let file = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        guard cvirt_lock_byte0(fd, mode == .exclusive ? 1 : 0) == 0 else {
            let code = errno
            guard code == EAGAIN || code == EACCES else {
                close(fd)
                throw Posix.failure("unable to acquire the lock on '\(key.path)' for \(label)", code)
            }
            let text = key.isIndirect ? readIdentity(fd) : nil
            close(fd)
            return .busy(file: file, holderText: text)
        }
        // What an indirect lease file said before we write ourselves in: an exclusive holder empties it when it
        // lets go, so a name left behind means that holder's daemon went away without it (`LockTable`).
        let previous = key.isIndirect ? readIdentity(fd) : nil
        return .taken(HeldLease(key: key, fd: fd, mode: mode, label: label, file: file), previous: previous)
    }

    /// What `take` found.
    enum TakeResult {
        case taken(HeldLease, previous: [UInt8]?)
        case busy(file: FileIdentity, holderText: [UInt8]?)
    }

    /// Writes the holder's identity into an indirect lease file (never into a disk).
    func writeIdentity(_ owner: LeaseOwner) {
        guard key.isIndirect else { return }
        var writer = JSONWriter()
        writer.beginObject()
        owner.writeMembers(to: &writer)
        writer.member("mode", mode.rawValue)
        writer.endObject()
        var line = writer.bytes
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(fd, off_t(line.count))
    }

    /// Ends the lease: an exclusive indirect lease file is emptied first (while still locked), then
    /// closing the descriptor drops the lock.
    func end() {
        if key.isIndirect && mode == .exclusive { _ = ftruncate(fd, 0) }
        close(fd)
    }

    /// Lets go of the lock without touching the lease file (a take-over that must wait).
    func abandon() { close(fd) }

    private static func readIdentity(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got > 0 else { return nil }
        return Array(buffer[0..<got])
    }

    /// Decodes what an indirect lease file says about its holder.
    static func decodeIdentity(_ bytes: [UInt8]) -> LeaseOwner? {
        identity(bytes).flatMap { try? LeaseOwner(json: $0, at: "") }
    }

    /// The holder an indirect lease file names as its exclusive holder (files of shared holders are not
    /// emptied by each holder, so only an exclusive name says that nobody let go).
    static func exclusiveHolder(_ bytes: [UInt8]) -> LeaseOwner? {
        guard let json = identity(bytes), json["mode"] == .string(LeaseMode.exclusive.rawValue) else { return nil }
        return try? LeaseOwner(json: json, at: "")
    }

    /// The first line of an indirect lease file, parsed.
    private static func identity(_ bytes: [UInt8]) -> JSONValue? {
        JSONValue.parse(Array(bytes.prefix { $0 != UInt8(ascii: "\n") }))
    }
}
