import VirtBase

/// The seam over libselinux: everything the SELinux driver asks of the host. `SystemSELinux` calls the real
/// library; tests pass a fake to drive the process-label paths that cannot run on a host without SELinux.
public protocol SELinuxAPI: Sendable {
    /// `is_selinux_enabled() > 0`.
    var isEnabled: Bool { get }
    /// `security_getenforce()`: enforcing or permissive when enabled, not enforced otherwise.
    var enforcement: LabelEnforcement { get }
    /// The file's label (`getfilecon_raw`, the `security.selinux` attribute); nil when it has none.
    func fileLabel(_ path: String) throws(VirtError) -> String?
    /// Sets the file's label (`setfilecon_raw`). Errors carry the errno (ENOTSUP: the file system stores none).
    func setFileLabel(_ path: String, _ label: String) throws(VirtError)
    /// Removes the file's label (a file that had none before the domain started gets none back).
    func removeFileLabel(_ path: String) throws(VirtError)
    /// The first line of the policy's `virtual_domain_context` file, when the policy has one.
    func virtualDomainContext() -> String?
    /// The two lines of the policy's `virtual_image_context` file (image, content), when present.
    func virtualImageContexts() -> (image: String, content: String)?
    /// The calling process's own context (`getcon_raw`), when SELinux can tell.
    func currentContext() -> String?
    /// The label `restorecon` would give `path` (`selabel_lookup_raw` on file_contexts), when a policy is loaded.
    func defaultFileLabel(_ path: String, mode: UInt32) -> String?
    /// Where the exec label is written in the child before exec: `/proc/self/attr/exec`.
    var execLabelPath: String { get }
}

/// The contexts SELinux's targeted policy ships, used when the host has no policy files.
public enum SELinuxDefaultContexts {
    /// `virtual_domain_context`, line 1.
    public static let domain = "system_u:system_r:svirt_t:s0"
    /// `virtual_image_context`, line 1.
    public static let image = "system_u:object_r:svirt_image_t:s0"
    /// `virtual_image_context`, line 2: read-only content.
    public static let content = "system_u:object_r:virt_content_t:s0"
}
