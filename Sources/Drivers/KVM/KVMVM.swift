import CVirtShims
import Glibc
import VirtBase

/// A KVM virtual machine descriptor with its platform pieces: TSS and identity-map addresses, the in-kernel
/// irqchip (PIC, IOAPIC, LAPICs), the PIT, and guest RAM slots.
final class KVMVM: @unchecked Sendable {
    /// The VM descriptor (`KVM_CREATE_VM`).
    let fd: Int32
    /// Name for messages.
    let name: String

    /// `KVM_PIT_SPEAKER_DUMMY`: port 0x61 accesses stay in the kernel (Firecracker `setup_irqchip`).
    static let pitSpeakerDummy: UInt32 = 1
    /// How often `KVM_CREATE_VM` is retried on EINTR (it happens on loaded hosts, Firecracker `create_common`).
    static let createRetries = 5

    /// Creates the VM with its TSS and identity-map addresses. Guest RAM is registered next (`register(memory:)`),
    /// then the in-kernel irqchip and PIT (`createInterruptControllers()`), and only then the vCPUs.
    init(system: KVMSystem, name: String) throws {
        self.name = name
        var created: Int32 = -1
        for attempt in 0..<Self.createRetries {
            created = cvirt_ioctl_value(system.fd, CVIRT_KVM_CREATE_VM, 0)
            if created >= 0 || errno != EINTR { break }
            usleep(UInt32(1000 << attempt))
        }
        if created < 0 {
            throw SystemCall.error(
                "KVM_CREATE_VM", "domain '\(name)'",
                remedy: errno == ENOMEM ? "free host memory" : "check dmesg for KVM messages")
        }
        fd = created
        let object = "VM of domain '\(name)'"
        do {
            try SystemCall.ioctl(
                fd, CVIRT_KVM_SET_TSS_ADDR, value: UInt(GuestLayout.tssAddress), name: "KVM_SET_TSS_ADDR",
                object: object)
            var identity = GuestLayout.identityMapAddress
            try SystemCall.ioctl(
                fd, CVIRT_KVM_SET_IDENTITY_MAP_ADDR, &identity, name: "KVM_SET_IDENTITY_MAP_ADDR", object: object)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Creates the in-kernel irqchip (PIC, IOAPIC, LAPICs) and the PIT. Called after the RAM slots are registered:
    /// a memory slot added once the irqchip exists waits for the kernel's SRCU grace period, which measured about
    /// 5 ms per start on this kind of host against under 0.1 ms before it (docs/performance.md).
    func createInterruptControllers() throws {
        let object = "VM of domain '\(name)'"
        try SystemCall.ioctl(fd, CVIRT_KVM_CREATE_IRQCHIP, value: 0, name: "KVM_CREATE_IRQCHIP", object: object)
        var pit = kvm_pit_config()
        pit.flags = Self.pitSpeakerDummy
        try SystemCall.ioctl(fd, CVIRT_KVM_CREATE_PIT2, &pit, name: "KVM_CREATE_PIT2", object: object)
    }

    /// Registers every RAM region of `memory` as a KVM memory slot (`KVM_SET_USER_MEMORY_REGION`).
    func register(memory: GuestMemory) throws {
        for (slot, region) in memory.regions.enumerated() {
            var descriptor = kvm_userspace_memory_region()
            descriptor.slot = UInt32(slot)
            descriptor.guest_phys_addr = region.guestAddress
            descriptor.memory_size = region.size
            descriptor.userspace_addr = UInt64(UInt(bitPattern: memory.base + Int(region.hostOffset)))
            try SystemCall.ioctl(
                fd, CVIRT_KVM_SET_USER_MEMORY_REGION, &descriptor, name: "KVM_SET_USER_MEMORY_REGION",
                object: "memory slot \(slot) of domain '\(name)'")
        }
    }

    /// Drives the level of interrupt line `irq` on the PIC and IOAPIC (`KVM_IRQ_LINE`).
    func setIRQLine(_ irq: UInt32, high: Bool) {
        var level = kvm_irq_level()
        level.irq = irq
        level.level = high ? 1 : 0
        _ = cvirt_ioctl_pointer(fd, CVIRT_KVM_IRQ_LINE, &level)
    }
}
