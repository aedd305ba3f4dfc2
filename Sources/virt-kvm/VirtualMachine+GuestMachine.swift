import KVM

/// The real machine: KVM's `VirtualMachine` already has exactly the API the process layer uses.
extension VirtualMachine: GuestMachine {}
