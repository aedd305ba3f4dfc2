import Glibc
import VirtBase

/// The file operations the cgroup code makes, so that it runs against the kernel's cgroup file systems and, in
/// tests, against an in-memory model of one (which creates a group's control files when the group is made, as the
/// kernel does). Paths are absolute.
public protocol CGroupFiles: Sendable {
    /// Whether a file or directory exists at `path`.
    func exists(_ path: String) -> Bool
    /// The text of the control file at `path`.
    func read(_ path: String) throws(VirtError) -> String
    /// Writes `text` to the control file at `path` in one `write(2)`; the kernel's refusal comes back with errno.
    func write(_ path: String, _ text: String) throws(VirtError)
    /// Creates the group directory `path`; false when it existed already.
    func makeDirectory(_ path: String) throws(VirtError) -> Bool
    /// Removes the group directory `path`; false when it did not exist. A group that still holds tasks or child
    /// groups fails with `EBUSY`.
    func removeDirectory(_ path: String) throws(VirtError) -> Bool
    /// The names in directory `path`, sorted; nil when it does not exist.
    func list(_ path: String) throws(VirtError) -> [String]?
}

/// The host's cgroup file systems, through plain POSIX calls.
public struct SystemCGroupFiles: CGroupFiles {
    private let fs = HostFileSystem()

    /// The real file systems.
    public init() {}

    public func exists(_ path: String) -> Bool { fs.exists(path) }

    public func read(_ path: String) throws(VirtError) -> String { try fs.read(path) }

    public func write(_ path: String, _ text: String) throws(VirtError) { try fs.write(path, text) }

    public func makeDirectory(_ path: String) throws(VirtError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw HostFileSystem.systemError("Unable to create cgroup '\(path)'", errno)
    }

    public func removeDirectory(_ path: String) throws(VirtError) -> Bool {
        if rmdir(path) == 0 { return true }
        if errno == ENOENT { return false }
        // A tree of plain files (a fixture copied to a temporary directory, not a cgroup file system) keeps the
        // control files it was given; the kernel's groups never need that. Only regular files are removed.
        if errno == ENOTEMPTY, let names = try fs.list(path) {
            for name in names {
                var info = stat()
                if lstat(path + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFREG {
                    unlink(path + "/" + name)
                }
            }
            if rmdir(path) == 0 { return true }
        }
        throw HostFileSystem.systemError("Unable to remove cgroup '\(path)'", errno)
    }

    public func list(_ path: String) throws(VirtError) -> [String]? { try fs.list(path) }
}
