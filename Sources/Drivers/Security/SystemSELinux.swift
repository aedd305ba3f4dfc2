import CSELinux
import Glibc
import VirtBase

/// The real libselinux behind `SELinuxAPI`.
public struct SystemSELinux: SELinuxAPI {
    /// The host's libselinux.
    public init() {}

    public var isEnabled: Bool { is_selinux_enabled() > 0 }

    public var enforcement: LabelEnforcement {
        guard isEnabled else { return .notEnforced }
        return security_getenforce() == 1 ? .enforcing : .permissive
    }

    public func fileLabel(_ path: String) throws(VirtError) -> String? {
        var context: UnsafeMutablePointer<CChar>?
        guard getfilecon_raw(path, &context) >= 0, let context else {
            let code = errno
            if code == ENODATA || code == ENOTSUP { return nil }
            throw VirtError(
                .systemError, .security,
                "cannot read the SELinux label of '\(path)': \(String(cString: strerror(code)))", errno: code)
        }
        defer { freecon(context) }
        return String(cString: context)
    }

    public func setFileLabel(_ path: String, _ label: String) throws(VirtError) {
        guard setfilecon_raw(path, label) == 0 else {
            let code = errno
            throw VirtError(
                .systemError, .security,
                "unable to set security context '\(label)' on '\(path)': \(String(cString: strerror(code)))",
                errno: code)
        }
    }

    public func removeFileLabel(_ path: String) throws(VirtError) {
        try ExtendedAttribute.remove(path, Self.attributeName)
    }

    /// The attribute SELinux keeps a file's label in.
    static let attributeName = "security.selinux"

    public func virtualDomainContext() -> String? {
        guard let path = selinux_virtual_domain_context_path() else { return nil }
        return Self.lines(of: String(cString: path)).first
    }

    public func virtualImageContexts() -> (image: String, content: String)? {
        guard let path = selinux_virtual_image_context_path() else { return nil }
        let lines = Self.lines(of: String(cString: path))
        guard lines.count >= 2 else { return nil }
        return (lines[0], lines[1])
    }

    public func currentContext() -> String? {
        guard isEnabled else { return nil }
        var context: UnsafeMutablePointer<CChar>?
        guard getcon_raw(&context) == 0, let context else { return nil }
        defer { freecon(context) }
        return String(cString: context)
    }

    public func defaultFileLabel(_ path: String, mode: UInt32) -> String? {
        guard isEnabled, let handle = selabel_open(UInt32(SELABEL_CTX_FILE), nil, 0) else { return nil }
        defer { selabel_close(handle) }
        var context: UnsafeMutablePointer<CChar>?
        guard selabel_lookup_raw(handle, &context, path, Int32(bitPattern: mode)) == 0, let context else { return nil }
        defer { freecon(context) }
        return String(cString: context)
    }

    public var execLabelPath: String { "/proc/self/attr/exec" }

    /// The non-empty, non-comment lines of a small policy file; empty when it cannot be read.
    static func lines(of path: String) -> [String] {
        guard let text = (try? SmallFile.readText(path)) ?? nil else { return [] }
        return text.split(separator: "\n").map { $0.trimmingBlanks() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

extension Substring {
    /// The text without leading and trailing blanks.
    func trimmingBlanks() -> String {
        String(
            drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }
                .reversed())
    }
}
