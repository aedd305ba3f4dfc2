import KVM
import VirtBase

/// Builds the machine a hypervisor process runs, as its configuration says.
enum MachineFactory {
    static func make(_ configuration: SupervisorConfiguration) throws -> any GuestMachine {
        switch configuration.machine {
        case .simulated:
            return try SimulatedMachine(configuration: configuration.hypervisor)
        case .kvm:
            throw VirtError(
                .operationUnsupported, .kvm,
                "this virt-kvm was built without the KVM hypervisor library's VirtualMachine; "
                    + "rebuild swift-virt from a tree that has Sources/Drivers/KVM/VirtualMachine.swift")
        }
    }
}
