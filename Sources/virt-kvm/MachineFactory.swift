import KVM
import VirtBase

/// Builds the machine a hypervisor process runs, as its configuration says.
enum MachineFactory {
    static func make(_ configuration: SupervisorConfiguration) throws -> any GuestMachine {
        switch configuration.machine {
        case .simulated:
            return try SimulatedMachine(configuration: configuration.hypervisor)
        case .kvm:
            return try VirtualMachine(configuration: configuration.hypervisor)
        }
    }
}
