import Glibc

/// Reads a whole text file with virsh's messages for the failures (`Failed to open file 'x': <strerror>`).
enum FileText {
    /// The most `define` reads, as virsh's limit for an XML file (10 MiB).
    static let maximumBytes = 10 * 1024 * 1024

    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CommandFailure("Failed to open file '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CommandFailure("Failed to read file '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maximumBytes {
                throw CommandFailure("Failed to read file '\(path)': larger than \(maximumBytes) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
