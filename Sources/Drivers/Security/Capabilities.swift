import CVirtShims
import Glibc
import VirtBase

/// Linux capabilities of the calling process.
public enum Capabilities {
    /// The highest capability number the kernel knows (`/proc/sys/kernel/cap_last_cap`; 40 on Linux 5.9+).
    public static func lastCapability() -> Int {
        ((try? SmallFile.readText("/proc/sys/kernel/cap_last_cap")) ?? nil).flatMap { Int($0.split(separator: "\n").first ?? "") }
            ?? fallbackLastCapability
    }

    /// CAP_CHECKPOINT_RESTORE, the last capability of Linux 5.9 (<linux/capability.h>).
    static let fallbackLastCapability = 40

    /// Drops every capability: bounding set (where still permitted), ambient, effective, permitted, inheritable.
    public static func dropAll() throws(VirtError) {
        let result = cvirt_security_drop_capabilities(Int32(lastCapability()))
        guard result == 0 else {
            throw VirtError(
                .systemError, .security,
                "cannot drop the hypervisor's capabilities: \(String(cString: strerror(-result)))", errno: -result)
        }
    }
}
