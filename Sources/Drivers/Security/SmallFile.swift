import Glibc

/// Whole-file reads of small system files (`/proc/stat`, policy context files, `kvm.conf`) without Foundation.
enum SmallFile {
    /// The largest file read: configuration and policy files are a few kilobytes.
    static let maximumSize = 1 << 20

    /// The file's text, or nil when it cannot be opened or read (errno is left set).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= maximumSize {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return nil
    }

    /// The host's boot time (`btime` in `/proc/stat`), which tells remembered labels from before a reboot.
    static func bootTime() -> String {
        guard let text = read("/proc/stat") else { return "0" }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return String(line.dropFirst("btime ".count))
        }
        return "0"
    }
}
