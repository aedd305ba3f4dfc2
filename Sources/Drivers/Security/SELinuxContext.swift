import VirtBase

/// An SELinux security context `user:role:type:range`, for example `system_u:system_r:svirt_t:s0:c1,c2`.
/// The range may itself contain colons (`s0-s0:c0.c1023`), so only the first three colons split.
public struct SELinuxContext: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The SELinux user (`system_u`).
    public var user: String
    /// The role (`system_r`, `object_r` for files).
    public var role: String
    /// The type (`svirt_t`, `svirt_image_t`).
    public var type: String
    /// The MLS/MCS range (`s0:c1,c2`); empty when the policy has none.
    public var range: String

    /// A context from its parts.
    public init(user: String, role: String, type: String, range: String) {
        self.user = user
        self.role = role
        self.type = type
        self.range = range
    }

    /// Parses `user:role:type[:range]`; every part must be non-empty and free of blanks.
    public init(parsing text: String) throws(VirtError) {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
            throw VirtError(
                .xmlError, .security,
                "SELinux context '\(text)' is not of the form user:role:type:range "
                    + "(for example system_u:system_r:svirt_t:s0)")
        }
        self.init(user: parts[0], role: parts[1], type: parts[2], range: parts.count == 4 ? parts[3] : "")
    }

    /// The context as text.
    public var description: String {
        range.isEmpty ? "\(user):\(role):\(type)" : "\(user):\(role):\(type):\(range)"
    }

    /// This context with its range replaced.
    public func with(range newRange: String) -> SELinuxContext {
        SELinuxContext(user: user, role: role, type: type, range: newRange)
    }
}
