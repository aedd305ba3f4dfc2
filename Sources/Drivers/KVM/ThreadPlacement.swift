import CVirtShims
import Glibc
import Host
import VirtBase

/// Applies `PlacementConfiguration`'s CPU pinning to the hypervisor's own threads (`sched_setaffinity(2)` per
/// kernel thread id, through the Host module's `ThreadAffinity`).
///
/// The order makes every thread covered: before any thread of the VM exists, every thread the process has is
/// pinned to the emulator set (so every thread created later — monitor, serial input, vCPUs — inherits it);
/// each vCPU thread then pins itself to its own set before it first enters `KVM_RUN`.
struct ThreadPlacement {
    /// The domain's name, for messages.
    let domain: String
    /// What to apply.
    let placement: PlacementConfiguration
    /// The CPUs the process was allowed before pinning: where an unpinned vCPU goes back to when the emulator
    /// threads (whose mask it inherited) were pinned.
    let inheritedCPUs: CPUSet

    /// Reads the inherited mask and pins every existing thread of the process to the emulator set.
    init(domain: String, placement: PlacementConfiguration) throws(VirtError) {
        self.domain = domain
        self.placement = placement
        do {
            inheritedCPUs = try ThreadAffinity.get()
        } catch {
            throw VirtError(.systemError, .kvm, "sched_getaffinity for domain '\(domain)' failed: \(error.message)",
                            errno: error.errno)
        }
        guard let emulator = placement.emulatorCPUs else { return }
        for tid in try Self.processThreadIDs() {
            do {
                try ThreadAffinity.set(emulator, thread: tid)
            } catch {
                throw VirtError(
                    .systemError, .kvm,
                    "sched_setaffinity of emulator thread \(tid) of domain '\(domain)' to host CPUs '\(emulator)' "
                        + "failed: \(error.message)", errno: error.errno)
            }
        }
    }

    /// The CPUs vCPU `index` must run on, or nil to leave its inherited mask alone.
    func cpus(forVCPU index: Int) -> CPUSet? {
        if let pinned = placement.cpus(forVCPU: index) { return pinned }
        return placement.emulatorCPUs == nil ? nil : inheritedCPUs
    }

    /// Pins the calling thread, vCPU `index`, to its set.
    func pinCurrentVCPU(_ index: Int) throws(VirtError) {
        guard let cpus = cpus(forVCPU: index) else { return }
        do {
            try ThreadAffinity.set(cpus)
        } catch {
            throw VirtError(
                .systemError, .kvm,
                "sched_setaffinity of vCPU \(index) of domain '\(domain)' to host CPUs '\(cpus)' failed: "
                    + error.message, errno: error.errno)
        }
    }

    /// Kernel thread ids of every thread of this process (`/proc/self/task`).
    static func processThreadIDs() throws(VirtError) -> [Int32] {
        guard let directory = opendir("/proc/self/task") else {
            throw VirtError(.systemError, .kvm,
                            "cannot list '/proc/self/task': \(String(cString: strerror(errno)))", errno: errno)
        }
        defer { closedir(directory) }
        var ids: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let tid = Int32(name) { ids.append(tid) }
        }
        return ids
    }
}

extension VirtualMachine {
    /// Makes KVM start its per-VM kernel workers (`kvm-nx-lpage-recovery`, a thread of this process) from this
    /// thread, which has the emulator set, instead of from whichever pinned vCPU enters KVM_RUN first: newer
    /// kernels create them lazily on a VM's first KVM_RUN, with the affinity of the thread that makes the call.
    /// A KVM_RUN with `immediate_exit` set does that and returns EINTR before the guest runs.
    func primeKVMWorkers(_ vcpu: VCPU) {
        cvirt_kvm_run_set_immediate_exit(vcpu.run, 1)
        _ = cvirt_ioctl_value(vcpu.fd, CVIRT_KVM_RUN, 0)
        cvirt_kvm_run_set_immediate_exit(vcpu.run, 0)
    }
}
