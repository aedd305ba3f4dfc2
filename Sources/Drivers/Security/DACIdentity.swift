import Glibc
import VirtBase

/// A uid, gid and supplementary groups for the hypervisor process (DAC's `user:group`).
public struct DACIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The user id.
    public var uid: UInt32
    /// The primary group id.
    public var gid: UInt32
    /// Supplementary groups (a named user's memberships; empty for `+UID`).
    public var groups: [UInt32]

    /// An identity from numbers.
    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// The DAC label form libvirt prints: `+107:+107`.
    public var description: String { "+\(uid):+\(gid)" }

    /// The calling process's effective identity (the session and embed default: no uid change).
    public static var caller: DACIdentity {
        DACIdentity(uid: geteuid(), gid: getegid())
    }

    /// Resolves `user` and `group` as `kvm.conf` or a DAC `<label>` spell them: names, or `+N` numbers.
    /// Without a group, a named user's primary group is used (for `+UID`, the gid equals the uid).
    public static func resolve(user: String, group: String?, source: String) throws(VirtError) -> DACIdentity {
        var uid: UInt32
        var primaryGid: UInt32
        var groups: [UInt32] = []
        if let number = numeric(user) {
            uid = number
            primaryGid = number
        } else {
            guard let entry = lookupUser(user) else {
                throw VirtError(
                    .configUnsupported, .security,
                    "\(source): user '\(user)' does not exist on this host; create it (for example "
                        + "'useradd --system --no-create-home \(user)') or give a number like \"+107\"")
            }
            (uid, primaryGid, groups) = entry
        }
        var gid = primaryGid
        if let group {
            if let number = numeric(group) {
                gid = number
            } else if let number = lookupGroup(group) {
                gid = number
            } else {
                throw VirtError(
                    .configUnsupported, .security,
                    "\(source): group '\(group)' does not exist on this host; create it (for example "
                        + "'groupadd --system \(group)') or give a number like \"+107\"")
            }
        }
        return DACIdentity(uid: uid, gid: gid, groups: groups)
    }

    /// Parses a DAC label `user:group` (`+107:+107`, `qemu:kvm`).
    public static func resolve(label: String, source: String) throws(VirtError) -> DACIdentity {
        let parts = label.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw VirtError(
                .xmlError, .security, "\(source): DAC label '\(label)' is not of the form user:group (like +107:+107)")
        }
        return try resolve(user: parts[0], group: parts[1], source: source)
    }

    private static func numeric(_ text: String) -> UInt32? {
        guard text.hasPrefix("+") else { return nil }
        return UInt32(text.dropFirst())
    }

    /// getpwnam_r, then getgrouplist for the supplementary groups.
    private static func lookupUser(_ name: String) -> (UInt32, UInt32, [UInt32])? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        let uid = entry.pw_uid
        let gid = entry.pw_gid
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        return (uid, gid, Array(groups.prefix(Int(max(count, 0)))))
    }

    private static func lookupGroup(_ name: String) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}
