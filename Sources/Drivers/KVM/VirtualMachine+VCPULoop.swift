import CVirtShims
import Glibc
import VirtBase

/// The vCPU thread: mailbox, KVM_RUN, and exit dispatch.
extension VirtualMachine {
    /// Port I/O direction in `kvm_run.io` (`KVM_EXIT_IO_OUT`).
    static let ioDirectionOut: UInt8 = 1

    /// The body of vCPU thread `vcpu.index`.
    func runVCPU(_ vcpu: VCPU) {
        let tid = cvirt_gettid()
        // The creating thread's mask is inherited; the kick must get through whatever it was.
        _ = cvirt_unblock_signal(Self.kickSignal)
        var pinned = true
        do {
            try threadPlacement.pinCurrentVCPU(vcpu.index)
        } catch {
            pinned = false
            control.locked { if placementError == nil { placementError = error } }
        }
        control.broadcast { threadIDs[vcpu.index] = tid }
        control.wait { vcpusReleased }
        if !pinned {
            control.broadcast { finished += 1 }
            return
        }
        while true {
            guard waitForRunRequest(vcpu) else { break }
            let rc = cvirt_ioctl_value(vcpu.fd, CVIRT_KVM_RUN, 0)
            if rc < 0 {
                let code = errno
                if code == EINTR || code == EAGAIN {
                    cvirt_kvm_run_set_immediate_exit(vcpu.run, 0)
                    counters.count(.intr)
                    continue
                }
                end(.internalError(reason: "KVM_RUN on vCPU \(vcpu.index) failed: \(SystemCall.describe(code))"))
                break
            }
            if let exit = handleExit(vcpu) {
                end(exit)
                break
            }
        }
        let cpu = UInt64(max(0, cvirt_thread_cpu_time_ns(pthread_self())))
        control.broadcast {
            finalCPUTime[vcpu.index] = max(cpu, 1)
            finished += 1
        }
    }

    /// Parks while paused; returns false when the vCPU must stop.
    func waitForRunRequest(_ vcpu: VCPU) -> Bool {
        var wasParked = false
        let current = control.locked { request }
        if current == .paused {
            // Tell the kernel the guest was stopped, so its watchdogs do not fire on resume (errors ignored).
            _ = cvirt_ioctl_value(vcpu.fd, CVIRT_KVM_KVMCLOCK_CTRL, 0)
            control.broadcast {
                parked += 1
                wasParked = true
            }
        }
        control.wait { request != .paused }
        if wasParked { control.broadcast { parked -= 1 } }
        return control.locked { request == .running }
    }

    /// Handles one exit; returns how the run ends, or nil to keep running.
    func handleExit(_ vcpu: VCPU) -> GuestExit? {
        let run = vcpu.run
        switch Int32(run.pointee.exit_reason) {
        case KVM_EXIT_IO:
            counters.count(.io)
            handlePortIO(run)
        case KVM_EXIT_MMIO:
            counters.count(.mmio)
            handleMMIO(run)
        case KVM_EXIT_HLT:
            counters.count(.hlt)
        case KVM_EXIT_INTR:
            counters.count(.intr)
        case KVM_EXIT_SHUTDOWN:
            counters.count(.shutdown)
            return .crashed(
                reason: "triple fault on vCPU \(vcpu.index) at rip 0x\(String(instructionPointer(vcpu), radix: 16))")
        case KVM_EXIT_SYSTEM_EVENT:
            counters.count(.systemEvent)
            switch Int32(run.pointee.system_event.type) {
            case KVM_SYSTEM_EVENT_SHUTDOWN: return .poweroff(code: 0)
            case KVM_SYSTEM_EVENT_RESET: return .reset
            default:
                return .crashed(reason: "guest reported a crash (KVM system event \(run.pointee.system_event.type))")
            }
        case KVM_EXIT_FAIL_ENTRY:
            counters.count(.failEntry)
            let code = run.pointee.fail_entry.hardware_entry_failure_reason
            return .internalError(
                reason: "KVM could not enter vCPU \(vcpu.index) (hardware entry failure 0x\(String(code, radix: 16)))")
        case KVM_EXIT_INTERNAL_ERROR:
            counters.count(.internalError)
            let sub = run.pointee.internal.suberror
            let rip = String(instructionPointer(vcpu), radix: 16)
            if sub == KVM_INTERNAL_ERROR_EMULATION {
                return .internalError(
                    reason: "KVM failed to emulate an instruction (emulation failure) on vCPU \(vcpu.index) at "
                        + "rip 0x\(rip); hide the CPU feature it needs, e.g. <feature policy='disable' name='cx16'/>")
            }
            return .internalError(reason: "KVM internal error \(sub) on vCPU \(vcpu.index) at rip 0x\(rip)")
        default:
            counters.count(.other)
            return .internalError(reason: "unexpected KVM exit reason \(run.pointee.exit_reason) on vCPU \(vcpu.index)")
        }
        return nil
    }

    func handlePortIO(_ run: UnsafeMutablePointer<kvm_run>) {
        let io = run.pointee.io
        let size = Int(io.size)
        let data = UnsafeMutableRawPointer(run) + Int(io.data_offset)
        for i in 0..<Int(io.count) {
            let slot = data + i * size
            if io.direction == Self.ioDirectionOut {
                var value: UInt64 = 0
                for b in 0..<size { value |= UInt64(slot.load(fromByteOffset: b, as: UInt8.self)) << (8 * b) }
                if !bus.writePort(io.port, size: size, value: value) {
                    counters.unknownPorts.add(1, ordering: .relaxed)
                }
            } else {
                var value = UInt64.max
                if let v = bus.readPort(io.port, size: size) {
                    value = v
                } else {
                    counters.unknownPorts.add(1, ordering: .relaxed)
                }
                for b in 0..<size {
                    slot.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * b)), toByteOffset: b, as: UInt8.self)
                }
            }
        }
    }

    func handleMMIO(_ run: UnsafeMutablePointer<kvm_run>) {
        let address = run.pointee.mmio.phys_addr
        let size = Int(min(run.pointee.mmio.len, 8))
        withUnsafeMutableBytes(of: &run.pointee.mmio.data) { data in
            if run.pointee.mmio.is_write != 0 {
                var value: UInt64 = 0
                for b in 0..<size { value |= UInt64(data[b]) << (8 * b) }
                if !bus.writeMMIO(address, size: size, value: value) {
                    counters.unknownMMIO.add(1, ordering: .relaxed)
                }
            } else {
                var value = UInt64.max
                if let v = bus.readMMIO(address, size: size) {
                    value = v
                } else {
                    counters.unknownMMIO.add(1, ordering: .relaxed)
                }
                for b in 0..<size { data[b] = UInt8(truncatingIfNeeded: value >> (8 * b)) }
            }
        }
    }

    /// The vCPU's rip, for messages (0 when it cannot be read).
    func instructionPointer(_ vcpu: VCPU) -> UInt64 {
        var regs = kvm_regs()
        return cvirt_ioctl_pointer(vcpu.fd, CVIRT_KVM_GET_REGS, &regs) == 0 ? regs.rip : 0
    }
}
