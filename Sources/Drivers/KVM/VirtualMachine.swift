import CVirtShims
import Glibc
import VirtBase

/// One guest on the embedded KVM hypervisor: built from a `HypervisorConfiguration`, run on one named OS
/// thread per vCPU, and ended with a `GuestExit`. This is the API the `virt-kvm` process layer calls.
public final class VirtualMachine: @unchecked Sendable {
    /// What the vCPU threads are asked to do.
    enum Request { case running, paused, stopping }

    /// The configuration the VM was built from.
    public let configuration: HypervisorConfiguration
    let system: KVMSystem
    let vm: KVMVM
    let memory: GuestMemory
    let bus = DeviceBus()
    let vcpus: [VCPU]
    let serialBackend: SerialBackend
    let uart: Serial16550
    let keyboard: I8042Controller
    let disks: [VirtioMMIOTransport]
    let counters = ExitCounters()
    /// CPU pinning of the hypervisor's threads (emulator threads pinned when the VM is built).
    let threadPlacement: ThreadPlacement
    /// The command line the guest actually received (with the virtio-mmio announcements).
    public let guestCommandLine: String

    // Shared with the vCPU threads, guarded by `control`.
    let control = Monitor()
    var request: Request = .paused
    var parked = 0
    var finished = 0
    var started = false
    var exit: GuestExit?
    var threads: [OSThread] = []
    var threadIDs: [Int32] = []
    var finalCPUTime: [UInt64] = []
    /// Set by `start` once every vCPU thread has pinned itself; no vCPU enters KVM_RUN before.
    var vcpusReleased = false
    /// The first vCPU pinning failure, reported by `start`.
    var placementError: VirtError?

    /// The kick signal (SIGRTMIN): interrupts KVM_RUN together with `immediate_exit`.
    static let kickSignal = cvirt_sigrtmin()

    /// Builds the VM: checks /dev/kvm, creates the VM and its platform devices, maps RAM, opens disks and the
    /// serial backend, loads the kernel, and configures every vCPU. Nothing runs until `start`.
    public init(configuration: HypervisorConfiguration) throws {
        self.configuration = configuration
        let name = configuration.name
        guard configuration.vcpus >= 1 else {
            throw VirtError(.configUnsupported, .kvm, "domain '\(name)' needs at least one vCPU")
        }
        let kvmPath = configuration.kvmDevice?.path ?? "/dev/kvm"
        system = try KVMSystem(path: kvmPath, fd: configuration.kvmDevice?.fd)
        let maxVCPUs = Int(system.checkExtension(KVM_CAP_MAX_VCPUS))
        if maxVCPUs > 0 && configuration.vcpus > maxVCPUs {
            throw VirtError(
                .configUnsupported, .kvm,
                "domain '\(name)' asks for \(configuration.vcpus) vCPUs; this host's KVM allows \(maxVCPUs)")
        }
        // Before the VM creates any thread: every thread made from here on inherits the emulator set.
        threadPlacement = try ThreadPlacement(domain: name, placement: configuration.placement)
        var cpuid = try CPUIDTable.supported(by: system)
        try cpuid.apply(features: configuration.cpuFeatures, domain: name)
        vm = try KVMVM(system: system, name: name)
        let cells = configuration.resolvedMemoryCells
        let cellTotal = cells.reduce(UInt64(0)) { $0 + $1.sizeBytes }
        guard cellTotal == configuration.memoryBytes else {
            throw VirtError(
                .configUnsupported, .kvm,
                "the NUMA cells of domain '\(name)' add up to \(cellTotal) bytes, not its \(configuration.memoryBytes)")
        }
        memory = try GuestMemory(cells: cells, name: name)
        try vm.register(memory: memory)
        try vm.createInterruptControllers()

        let vmRef = vm
        serialBackend = try SerialBackend(configuration.serial, domain: name)
        let backend = serialBackend
        uart = Serial16550(
            output: { backend.emit($0) }, setIRQ: { vmRef.setIRQLine(Serial16550.com1IRQ, high: $0) })
        bus.addPorts(base: Serial16550.com1Base, length: Serial16550.registerCount, uart)

        // Devices report guest exits through this box, filled once `self` exists.
        let sink = ExitSink()
        keyboard = I8042Controller(
            setIRQ: { vmRef.setIRQLine(I8042Controller.keyboardIRQ, high: $0) }, onReset: { sink.post(.reset) })
        bus.addPorts(base: I8042Controller.dataPort, length: I8042Controller.claimedLength, keyboard)
        bus.addPorts(base: DebugExitPort.port, length: DebugExitPort.length, DebugExitPort { sink.post($0) })

        let maxDisks = Int(GuestLayout.virtioLastIRQ - GuestLayout.virtioFirstIRQ + 1)
        guard configuration.disks.count <= maxDisks else {
            throw VirtError(
                .configUnsupported, .kvm,
                "domain '\(name)' has \(configuration.disks.count) disks; at most \(maxDisks) are supported")
        }
        var transports: [VirtioMMIOTransport] = []
        var announcements: [String] = []
        for (i, disk) in configuration.disks.enumerated() {
            let base = GuestLayout.virtioMMIOBase + UInt64(i) * GuestLayout.virtioMMIOStride
            let irq = GuestLayout.virtioFirstIRQ + UInt32(i)
            let device = try VirtioBlock(disk, memory: memory, domain: name)
            let transport = VirtioMMIOTransport(
                device: device, memory: memory, setIRQ: { vmRef.setIRQLine(irq, high: $0) })
            bus.addMMIO(base: base, length: GuestLayout.virtioMMIOStride, transport)
            transports.append(transport)
            announcements.append(
                "virtio_mmio.device=\(GuestLayout.virtioMMIOStride >> 10)K@0x\(String(base, radix: 16)):\(irq)")
        }
        disks = transports
        guestCommandLine = ([configuration.cmdline] + announcements).filter { !$0.isEmpty }.joined(separator: " ")

        let entry = try KernelLoader.load(
            kernel: configuration.kernel, initrd: configuration.initrd, cmdline: guestCommandLine, memory: memory)

        var created: [VCPU] = []
        for index in 0..<configuration.vcpus {
            let vcpu = try VCPU(vm: vm, system: system, index: index)
            try vcpu.setCPUID(
                cpuid.forVCPU(index, vcpuCount: configuration.vcpus, topology: configuration.topology))
            try vcpu.setBootMSRs()
            try vcpu.setFPU()
            try vcpu.setLINT()
            if index == 0 { try vcpu.setBootRegisters(entry) }
            created.append(vcpu)
        }
        vcpus = created
        finalCPUTime = Array(repeating: 0, count: created.count)
        sink.machine = self
    }

    deinit {
        stop()
        for thread in threads { thread.join() }
        serialBackend.stop()
    }

    /// The slave path of the pty the serial backend allocated, if it allocated one.
    public var serialPTYPath: String? { serialBackend.ptyPath }

    /// Kernel thread ids of the vCPU threads, by vCPU index (empty before `start`).
    public var vcpuThreadIDs: [Int32] { control.locked { threadIDs } }

    /// Starts one thread per vCPU (and the serial input thread). With `paused`, the vCPUs wait for `resume`.
    /// Returns once every vCPU thread exists and knows its thread id.
    public func start(paused: Bool) throws {
        let alreadyStarted = control.locked { () -> Bool in
            if started { return true }
            started = true
            request = paused ? .paused : .running
            return false
        }
        if alreadyStarted {
            throw VirtError(.operationInvalid, .kvm, "domain '\(configuration.name)' is already running")
        }
        guard cvirt_install_noop_handler(Self.kickSignal) == 0 else {
            throw SystemCall.error("sigaction(SIGRTMIN)", "domain '\(configuration.name)'")
        }
        threadIDs = Array(repeating: 0, count: vcpus.count)
        // Always: the worker then belongs with the emulator threads, on their CPUs and in the supervisor's
        // `emulator` cgroup, whatever vCPU enters KVM_RUN first.
        if let first = vcpus.first { primeKVMWorkers(first) }
        for vcpu in vcpus {
            let thread = try OSThread(name: "vcpu\(vcpu.index)") { [self] in runVCPU(vcpu) }
            control.locked { threads.append(thread) }
        }
        control.wait { threadIDs.allSatisfy { $0 != 0 } }
        // Every vCPU has pinned itself (or failed to): only now may they enter KVM_RUN.
        if let failure = control.locked({ placementError }) {
            end(.stopped)
            control.broadcast { vcpusReleased = true }
            throw failure
        }
        control.broadcast { vcpusReleased = true }
        try serialBackend.startInput(name: "serial-in") { [bus, uart] bytes in
            bus.locked { uart.receive(bytes) }
        }
    }

    /// Pauses every vCPU; returns when none is inside KVM_RUN.
    public func pause() throws {
        let ok = control.locked { () -> Bool in
            guard started, exit == nil else { return false }
            request = .paused
            return true
        }
        guard ok else {
            throw VirtError(.operationInvalid, .kvm, "domain '\(configuration.name)' is not running")
        }
        kickAll()
        control.wait { parked + finished == vcpus.count }
    }

    /// Lets paused vCPUs run again.
    public func resume() throws {
        let ok = control.locked { started && exit == nil }
        guard ok else { throw VirtError(.operationInvalid, .kvm, "domain '\(configuration.name)' is not running") }
        control.broadcast { request = .running }
    }

    /// Presses Ctrl+Alt+Del on the guest's keyboard (the power button before ACPI).
    public func powerButton() {
        bus.locked { keyboard.injectCtrlAltDel() }
    }

    /// A host-initiated reset: the run ends with `GuestExit.reset` and the caller decides whether to restart.
    public func reset() { end(.reset) }

    /// Stops the guest: the run ends with `GuestExit.stopped` (unless it already ended).
    public func stop() { end(.stopped) }

    /// Blocks until the run has ended and every vCPU thread has finished; returns how it ended.
    public func waitForExit() -> GuestExit {
        control.wait { exit != nil && finished == threads.count }
        let joined = control.locked { threads }
        for thread in joined { thread.join() }
        serialBackend.stop()
        serialBackend.drainPTY()
        return control.locked { exit ?? .stopped }
    }

    /// Current counters: exits by reason, per-vCPU CPU time, unknown port and MMIO accesses.
    public func statistics() -> VMStatistics {
        let cpu: [UInt64] = control.locked {
            vcpus.indices.map { i in
                i < threads.count && finalCPUTime[i] == 0 ? threads[i].cpuTimeNanoseconds : finalCPUTime[i]
            }
        }
        return VMStatistics(
            exitsByReason: counters.snapshot(), vcpuCPUTimeNs: cpu,
            unknownPortAccesses: counters.unknownPorts.load(ordering: .relaxed),
            unknownMMIOAccesses: counters.unknownMMIO.load(ordering: .relaxed))
    }

    /// Records how the run ended (first caller wins) and tells every vCPU to stop.
    func end(_ reason: GuestExit) {
        control.broadcast {
            if exit == nil { exit = reason }
            request = .stopping
        }
        kickAll()
    }

    /// Forces every vCPU out of KVM_RUN: `immediate_exit` covers a vCPU about to enter, the signal one inside.
    func kickAll() {
        let running = control.locked { threads }
        for (i, thread) in running.enumerated() {
            cvirt_kvm_run_set_immediate_exit(vcpus[i].run, 1)
            pthread_kill(thread.handle, Self.kickSignal)
        }
    }
}

/// Lets devices created before the VM object report guest exits to it.
final class ExitSink: @unchecked Sendable {
    weak var machine: VirtualMachine?
    func post(_ exit: GuestExit) { machine?.end(exit) }
}
