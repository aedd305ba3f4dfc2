import Glibc
import VirtBase

/// Reads and writes the host's sysfs and procfs files under a root directory, so that every probe of the host can
/// run against a fixture tree (`root = "Tests/HostTests/Fixtures/two-node"`) exactly as against the real host
/// (`root = "/"`).
///
/// Paths given to the methods are the host's absolute paths (`/sys/devices/system/node`); errors name the full path
/// that was opened, root included, so a bad fixture or a strange kernel file is easy to find.
public struct HostFileSystem: Sendable, Equatable {
    /// The directory that stands for `/`.
    public let root: String

    /// The largest file the probes read: sysfs attributes are one page, `/proc/cpuinfo` grows with the CPU count.
    static let maximumFileSize = 16 << 20

    /// A file system rooted at `root` (default `/`, the real host).
    public init(root: String = "/") {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed.isEmpty ? "/" : trimmed
    }

    /// The path actually opened for the host path `path`.
    public func resolve(_ path: String) -> String {
        root == "/" ? path : root + path
    }

    /// Whether `path` exists (file or directory).
    public func exists(_ path: String) -> Bool {
        access(resolve(path), F_OK) == 0
    }

    /// Whether `path` is a directory.
    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(resolve(path), &info) == 0 else { return false }
        return info.st_mode & S_IFMT == S_IFDIR
    }

    /// The whole text of the file at `path`.
    public func read(_ path: String) throws(VirtError) -> String {
        let full = resolve(path)
        let fd = open(full, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.systemError("cannot read '\(full)'", errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.systemError("cannot read '\(full)'", errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= Self.maximumFileSize else {
                throw VirtError(.internalError, .host, "'\(full)' is larger than \(Self.maximumFileSize) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text of `path` if it exists, nil if it does not (any other failure throws).
    public func readIfPresent(_ path: String) throws(VirtError) -> String? {
        do {
            return try read(path)
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// Writes `text` to the existing file `path` in one `write(2)`, as sysfs attributes need; the kernel's answer
    /// (`EINVAL`, `EACCES`, ...) comes back as the error's `errno`.
    public func write(_ path: String, _ text: String) throws(VirtError) {
        let full = resolve(path)
        let fd = open(full, O_WRONLY | O_CLOEXEC | O_TRUNC)
        guard fd >= 0 else { throw Self.systemError("Unable to write to '\(full)'", errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written == bytes.count else {
                throw Self.systemError("Unable to write to '\(full)'", written < 0 ? errno : EIO)
            }
            return
        }
    }

    /// The names in directory `path` (without `.` and `..`), sorted; nil when the directory does not exist.
    public func list(_ path: String) throws(VirtError) -> [String]? {
        let full = resolve(path)
        guard let dir = opendir(full) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.systemError("cannot list '\(full)'", errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// A `systemError` whose message ends with strerror, as libvirt's `virReportSystemError` prints.
    static func systemError(_ what: String, _ code: Int32) -> VirtError {
        VirtError(.systemError, .host, "\(what): \(String(cString: strerror(code)))", errno: code)
    }
}
