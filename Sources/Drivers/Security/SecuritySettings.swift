import Glibc
import VirtBase

/// The security part of `kvm.conf`, read strictly: a wrong type or an unsupported value names file and line.
///
/// | key | kind | default |
/// |---|---|---|
/// | `security_driver` | `"selinux"` or `"none"` | selinux when the host has it enabled, else none |
/// | `security_default_confined` | 0/1 | 1 |
/// | `security_require_confined` | 0/1 | 0 |
/// | `security_mcs_range` | `"cLOW.cHIGH"` | `"c0.c1023"` |
/// | `user`, `group` | name or `"+N"` | per URI (`swift-virt` for system, the caller otherwise) |
/// | `dynamic_ownership` | 0/1 | 1 |
/// | `remember_owner` | 0/1 | 1 |
public struct SecuritySettings: Sendable, Equatable {
    /// `security_driver`: nil means "probe" (selinux when enabled, else none).
    public var driver: String?
    /// `security_default_confined`: guests without `<seclabel>` get a dynamic label.
    public var defaultConfined = true
    /// `security_require_confined`: refuse `type='none'`.
    public var requireConfined = false
    /// `security_mcs_range`: the categories dynamic labels are drawn from.
    public var mcsRange = MCSCategoryRange.default
    /// `user` as written, or the URI's default.
    public var user: String?
    /// `group` as written.
    public var group: String?
    /// `dynamic_ownership`: chown disks to the hypervisor's user.
    public var dynamicOwnership = true
    /// `remember_owner`: remember original labels and owners in `trusted.swift-virt.*` attributes.
    public var rememberOwner = true

    /// The keys this struct reads, with their kinds, for the caller's merged `kvm.conf` schema.
    public static let confSchema: [String: ConfFile.Kind] = [
        "security_driver": .string, "security_default_confined": .boolean, "security_require_confined": .boolean,
        "security_mcs_range": .string, "user": .string, "group": .string, "dynamic_ownership": .boolean,
        "remember_owner": .boolean,
    ]

    /// The drivers `security_driver` may name (DAC is always stacked and is not named, as in libvirt).
    public static let driverNames = ["selinux", "none"]

    /// The defaults: probe the driver, and `defaultUser` (nil: the caller, no uid change).
    public init(defaultUser: String? = nil, defaultGroup: String? = nil) {
        user = defaultUser
        group = defaultGroup
    }

    /// The defaults of a URI: `kvm:///system` runs hypervisors as `swift-virt`, session and embed as the caller.
    public static func defaults(systemInstance: Bool) -> SecuritySettings {
        systemInstance ? SecuritySettings(defaultUser: "swift-virt", defaultGroup: "swift-virt") : SecuritySettings()
    }

    /// Reads the security keys of `conf` over `base`. The caller validates the whole file against its merged
    /// schema (other modules own other keys); the kinds of these keys are checked here as well.
    public init(conf: ConfFile, over base: SecuritySettings) throws(VirtError) {
        self = base
        if let driver = try conf.string("security_driver") {
            guard Self.driverNames.contains(driver) else {
                let line = conf.entry("security_driver")?.line ?? 0
                throw VirtError(
                    .configUnsupported, .config,
                    "\(conf.name):\(line): security_driver '\(driver)' is not supported (choose \"selinux\" or "
                        + "\"none\"; DAC is always on and is not listed)")
            }
            self.driver = driver
        }
        defaultConfined = try conf.boolean("security_default_confined") ?? defaultConfined
        requireConfined = try conf.boolean("security_require_confined") ?? requireConfined
        if let range = try conf.string("security_mcs_range") {
            do {
                mcsRange = try MCSCategoryRange(parsing: range)
            } catch {
                let line = conf.entry("security_mcs_range")?.line ?? 0
                throw VirtError(.configUnsupported, .config, "\(conf.name):\(line): \(error.message)")
            }
        }
        if let user = try conf.string("user") {
            self.user = user
            if conf.entry("group") == nil, base.group != nil { group = nil }
        }
        group = try conf.string("group") ?? group
        dynamicOwnership = try conf.boolean("dynamic_ownership") ?? dynamicOwnership
        rememberOwner = try conf.boolean("remember_owner") ?? rememberOwner
        if requireConfined && !defaultConfined {
            let line = conf.entry("security_require_confined")?.line ?? 0
            throw VirtError(
                .configUnsupported, .config,
                "\(conf.name):\(line): security_require_confined = 1 needs security_default_confined = 1")
        }
    }

    /// Reads `<configDirectory>/kvm.conf` (absent: `base` unchanged), validating every key against
    /// `confSchema` merged with `otherKeys` (the keys other modules read from the same file).
    public static func load(
        configDirectory: String, over base: SecuritySettings, otherKeys: [String: ConfFile.Kind] = [:]
    ) throws(VirtError) -> SecuritySettings {
        guard let conf = try loadConf(configDirectory: configDirectory, otherKeys: otherKeys) else { return base }
        return try SecuritySettings(conf: conf, over: base)
    }

    /// `<configDirectory>/kvm.conf` parsed and validated against `confSchema` merged with `otherKeys`; nil when
    /// there is none. The driver reads it once per call and hands it to every module that has keys in it.
    public static func loadConf(
        configDirectory: String, otherKeys: [String: ConfFile.Kind] = [:]
    ) throws(VirtError) -> ConfFile? {
        let path = configDirectory.hasSuffix("/") ? configDirectory + "kvm.conf" : configDirectory + "/kvm.conf"
        guard let text = try SmallFile.readText(path) else { return nil }
        let conf = try ConfFile(parsing: text, name: path)
        try conf.validate(against: confSchema.merging(otherKeys) { mine, _ in mine })
        return conf
    }

    /// The hypervisor's identity: `user`/`group` resolved on this host, or the caller when neither is set.
    public func resolveIdentity(source: String = "kvm.conf") throws(VirtError) -> DACIdentity {
        guard let user else {
            guard let group else { return .caller }
            let caller = DACIdentity.caller
            return try DACIdentity.resolve(user: "+\(caller.uid)", group: group, source: source)
        }
        return try DACIdentity.resolve(user: user, group: group, source: source)
    }
}
