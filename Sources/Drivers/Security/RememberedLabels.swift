import VirtBase

/// How one security model reads and writes a file's label (an SELinux context, or DAC `+uid:+gid`).
protocol FileLabelAccess: Sendable {
    /// The model's name in attribute names and messages: `selinux` or `dac`.
    var model: String { get }
    /// The file's current label; nil when it has none.
    func read(_ path: String) throws(VirtError) -> String?
    /// Gives the file `label`.
    func write(_ path: String, _ label: String) throws(VirtError)
    /// Gives the file no label (for a file that had none).
    func clear(_ path: String) throws(VirtError)
    /// The label a file gets back when its original was not remembered; nil leaves it as it is.
    func fallbackRestoreLabel(_ path: String) -> String?
}

/// Original labels remembered in extended attributes with a reference count, as libvirt does under
/// `trusted.libvirt.security.`: `trusted.swift-virt.security.<model>` (the original, empty for none),
/// `...ref_<model>` (how many running domains use the file) and `...timestamp_<model>` (the host's boot time).
///
/// The first user stores the original and relabels; later users only count, and must ask for the same
/// label; the last one to release restores the original and removes the attributes.
struct RememberedLabels: Sendable {
    /// The attribute name prefix.
    static let prefix = "trusted.swift-virt.security."

    /// The model's file access.
    let access: any FileLabelAccess
    /// The host's boot time: counts written before the last boot are stale (their domains are gone).
    let bootTime: String
    /// `remember_owner`: when false, nothing is remembered and restoring uses the model's fallback.
    let remember: Bool

    var originalName: String { Self.prefix + access.model }
    var countName: String { Self.prefix + "ref_" + access.model }
    var timestampName: String { Self.prefix + "timestamp_" + access.model }

    /// What `release` did.
    enum ReleaseOutcome: Equatable {
        /// Other domains still use the file; the count went down to the value given.
        case stillInUse(Int)
        /// The file got its original label back.
        case restored(String?)
        /// Nothing was remembered: the fallback label (if any) was applied.
        case fellBack(String?)
        /// Nothing was remembered and the caller asked to leave such files alone.
        case untouched
    }

    /// Labels `path` with `label` for one more user and returns the new reference count.
    @discardableResult
    func acquire(_ path: String, label: String) throws(VirtError) -> Int {
        guard remember else {
            try access.write(path, label)
            return 1
        }
        return try FileMetadataLock.withLock(path) { () throws(VirtError) -> Int in
            let stale = try ExtendedAttribute.get(path, timestampName) != bootTime
            let count = stale ? 0 : Int(try ExtendedAttribute.get(path, countName) ?? "") ?? 0
            if count > 0 {
                let current = try access.read(path)
                guard current == label else {
                    let what = access.model == "dac" ? "DAC user or group" : "SELinux label"
                    throw VirtError(
                        .operationInvalid, .security,
                        "Setting different \(what) on '\(path)' which is already in use (it carries "
                            + "'\(current ?? "")' for \(count) running domain(s), this domain needs '\(label)')")
                }
                try ExtendedAttribute.set(path, countName, String(count + 1))
                return count + 1
            }
            // After a reboot the remembered original still is the file's true original; the count is not.
            let remembered = try ExtendedAttribute.get(path, originalName)
            let original = stale && remembered != nil ? remembered! : (try access.read(path) ?? "")
            try ExtendedAttribute.set(path, originalName, original)
            try ExtendedAttribute.set(path, countName, "1")
            try ExtendedAttribute.set(path, timestampName, bootTime)
            do throws(VirtError) {
                try access.write(path, label)
            } catch {
                try? removeAttributes(path)
                throw error
            }
            return 1
        }
    }

    /// Releases one user of `path`; the last one restores the original label. With `onlyRemembered`, a file
    /// that carries no remembered label keeps the one it has (reconciliation cannot tell whether a dead
    /// supervisor labelled it or restored it already, and must not give it the fallback label either way).
    @discardableResult
    func release(_ path: String, onlyRemembered: Bool = false) throws(VirtError) -> ReleaseOutcome {
        guard remember else { return onlyRemembered ? .untouched : try fallBack(path) }
        return try FileMetadataLock.withLock(path) { () throws(VirtError) -> ReleaseOutcome in
            guard let countText = try ExtendedAttribute.get(path, countName), let count = Int(countText),
                let original = try ExtendedAttribute.get(path, originalName)
            else { return onlyRemembered ? .untouched : try fallBack(path) }
            if count > 1 {
                try ExtendedAttribute.set(path, countName, String(count - 1))
                return .stillInUse(count - 1)
            }
            if original.isEmpty { try access.clear(path) } else { try access.write(path, original) }
            try removeAttributes(path)
            return .restored(original.isEmpty ? nil : original)
        }
    }

    /// The reference count on `path` (0 when nothing is remembered), for tests and `virtsh` diagnostics.
    func referenceCount(_ path: String) throws(VirtError) -> Int {
        Int(try ExtendedAttribute.get(path, countName) ?? "") ?? 0
    }

    private func fallBack(_ path: String) throws(VirtError) -> ReleaseOutcome {
        let label = access.fallbackRestoreLabel(path)
        if let label { try access.write(path, label) }
        return .fellBack(label)
    }

    private func removeAttributes(_ path: String) throws(VirtError) {
        try ExtendedAttribute.remove(path, originalName)
        try ExtendedAttribute.remove(path, countName)
        try ExtendedAttribute.remove(path, timestampName)
    }
}
