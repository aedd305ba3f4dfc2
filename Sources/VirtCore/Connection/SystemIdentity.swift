import Foundation

/// The local machine's name and kernel release, as drivers report them for `hostname` and `version`.
public enum SystemIdentity {
    /// `gethostname(2)`.
    public static func hostname() throws -> String {
        var buffer = [UInt8](repeating: 0, count: Int(HOST_NAME_MAX) + 1)
        let rc = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                gethostname($0, pointer.count - 1)
            }
        }
        guard rc == 0 else {
            let error = errno
            throw VirtError(.systemError, .host, "cannot get the host name: \(describe(errno: error))", errno: error)
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The kernel release from `uname(2)` (`6.1.0-18-amd64`).
    public static func kernelRelease() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "" }
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The numeric `major.minor.micro` prefix of a kernel release (`6.1.0-18-amd64` → `6.1.0`), the form
    /// virsh prints after `Running hypervisor:`.
    public static func numericVersion(of release: String) -> String {
        // Bytes, not Characters: every kvm:// connection asks, and `Character.isNumber`'s Unicode tables and a
        // generic `joined` cost more here, on their first use in a process, than the rest of opening the store.
        var parts: [String] = [""]
        for byte in release.utf8 {
            if byte == UInt8(ascii: ".") {
                parts.append("")
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                parts[parts.count - 1].unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                break
            }
        }
        let numbers = parts.prefix(3).filter { !$0.isEmpty }
        var version = ""
        for index in 0..<3 {
            if index > 0 { version += "." }
            version += index < numbers.count ? numbers[index] : "0"
        }
        return version
    }

    /// `strerror(3)` as a String.
    public static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(validatingCString: text) ?? "error \(code)"
    }
}
