import CVirtShims
import Glibc
import VirtBase

/// The open `/dev/kvm` system descriptor, checked for the API version and the capabilities this hypervisor
/// needs. Every failure explains what the user can do about it.
public final class KVMSystem {
    /// The KVM API version every supported kernel reports (`KVM_GET_API_VERSION`).
    public static let expectedAPIVersion: Int32 = 12

    /// Capabilities the hypervisor cannot work without, with the reason each is needed.
    static let requiredCapabilities: [(Int32, String, String)] = [
        (KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel interrupt controller"),
        (KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM from host memory"),
        (KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "the TSS region Intel hosts need"),
        (KVM_CAP_PIT2, "KVM_CAP_PIT2", "the in-kernel timer"),
        (KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "building the guest's CPUID"),
        (KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "pausing vCPUs without races"),
    ]

    /// The system descriptor.
    public let fd: Int32
    /// The device path opened.
    public let path: String
    /// Bytes to mmap per vCPU for `kvm_run` (`KVM_GET_VCPU_MMAP_SIZE`).
    public let vcpuMapSize: Int

    /// Opens and checks `path`, or adopts an inherited descriptor `fd` (this object then owns and closes it).
    public init(path: String = "/dev/kvm", fd inherited: Int32? = nil) throws {
        self.path = path
        if let inherited {
            fd = inherited
        } else {
            let opened = open(path, O_RDWR | O_CLOEXEC)
            if opened < 0 { throw Self.openError(path: path, errno: errno) }
            fd = opened
        }
        do {
            let version = cvirt_ioctl_value(fd, CVIRT_KVM_GET_API_VERSION, 0)
            if version < 0 { throw SystemCall.error("KVM_GET_API_VERSION", path) }
            guard version == Self.expectedAPIVersion else {
                throw VirtError(
                    .operationUnsupported, .kvm,
                    "\(path) reports KVM API version \(version), this hypervisor needs version "
                        + "\(Self.expectedAPIVersion); use a host kernel with the stable KVM API")
            }
            for (cap, name, purpose) in Self.requiredCapabilities
            where cvirt_ioctl_value(fd, CVIRT_KVM_CHECK_EXTENSION, UInt(cap)) <= 0 {
                throw VirtError(
                    .operationUnsupported, .kvm,
                    "\(path) lacks \(name) (needed for \(purpose)); use a newer host kernel with full KVM support")
            }
            let size = cvirt_ioctl_value(fd, CVIRT_KVM_GET_VCPU_MMAP_SIZE, 0)
            if size <= 0 { throw SystemCall.error("KVM_GET_VCPU_MMAP_SIZE", path) }
            vcpuMapSize = Int(size)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// `KVM_CHECK_EXTENSION`: 0 when absent, a positive value (often a limit) when present.
    public func checkExtension(_ capability: Int32) -> Int32 {
        max(0, cvirt_ioctl_value(fd, CVIRT_KVM_CHECK_EXTENSION, UInt(capability)))
    }

    /// The error for a failed `open` of the KVM device, with the usual fix for each cause.
    static func openError(path: String, errno code: Int32) -> VirtError {
        let remedy: String
        switch code {
        case ENOENT, ENODEV, ENXIO:
            remedy =
                "load the KVM modules (modprobe kvm_intel or kvm_amd) and enable virtualization "
                + "(VT-x/AMD-V) in the firmware"
        case EACCES, EPERM:
            remedy = "add the user to group 'kvm' (usermod -aG kvm USER, then log in again) or fix the ACL of \(path)"
        default:
            remedy = "check that \(path) is the KVM device"
        }
        return SystemCall.error("open", path, errno: code, remedy: remedy)
    }

    /// Whether the device exists and this process may open it read-write (a cheap probe for test gating).
    public static func isUsable(path: String = "/dev/kvm") -> Bool {
        access(path, R_OK | W_OK) == 0
    }
}
