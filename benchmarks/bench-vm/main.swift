// bench-vm: the in-process cost of the embedded hypervisor's control operations on a running guest.
//
//   bench-vm GUEST.elf [ROUNDS]      (default 1000 rounds; goal: pause + resume <= 1 ms)
//
// Boots GUEST (a PVH ELF, e.g. benchmarks/guest/firstbyte.S built by benchmarks/suspend-resume.sh) with 64 MiB and
// one vCPU, waits until its vCPU has run, then times `pause()` + `resume()` pairs with CLOCK_MONOTONIC and prints
// the median, the 90th percentile and the maximum, and the same for `pause()` alone. Rounds are 2 ms apart, so
// every pause finds the vCPU back inside KVM_RUN (halted) and has to kick it out; the count of `intr` exits
// (KVM_RUN interrupted by the kick) shows it did. Stops the guest at the end.
import KVM

#if canImport(Glibc)
    import Glibc
#endif

/// Nanoseconds on the monotonic clock.
func nowNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// `sorted[p * (count - 1)]`, in microseconds with one decimal.
func percentile(_ sorted: [UInt64], _ p: Double) -> String {
    let value = sorted[Int((Double(sorted.count - 1) * p).rounded())]
    return String(Double(value / 100) / 10)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let rounds = arguments.count > 2 ? Int(arguments[2]) : 1_000, rounds > 0 else {
    printUsageAndExit()
}

func printUsageAndExit() -> Never {
    let text = "usage: bench-vm GUEST.elf [ROUNDS]\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

let guestMemoryBytes: UInt64 = 64 << 20
/// Time between rounds, for the resumed vCPU to re-enter KVM_RUN.
let roundSpacingMicroseconds: UInt32 = 2_000
let configuration = HypervisorConfiguration(
    name: "bench-vm", uuid: "00000000-0000-4000-8000-00000000b001", memoryBytes: guestMemoryBytes, vcpus: 1,
    kernel: FileSource(path: arguments[1]))
do {
    let machine = try VirtualMachine(configuration: configuration)
    try machine.start(paused: false)
    // Let the guest reach its halt loop (a few guest instructions) before timing.
    usleep(100_000)
    var pairs: [UInt64] = []
    var pauses: [UInt64] = []
    pairs.reserveCapacity(rounds)
    pauses.reserveCapacity(rounds)
    let intrBefore = machine.statistics().exitsByReason["intr"] ?? 0
    for _ in 0..<rounds {
        usleep(roundSpacingMicroseconds)
        let start = nowNanoseconds()
        try machine.pause()
        let paused = nowNanoseconds()
        try machine.resume()
        let end = nowNanoseconds()
        pauses.append(paused - start)
        pairs.append(end - start)
    }
    let kicks = (machine.statistics().exitsByReason["intr"] ?? 0) - intrBefore
    machine.stop()
    _ = machine.waitForExit()
    pairs.sort()
    pauses.sort()
    print(
        "pause+resume x\(rounds) (in process, 1 vCPU, 64 MiB): median \(percentile(pairs, 0.5)) us, "
            + "p90 \(percentile(pairs, 0.9)) us, max \(percentile(pairs, 1.0)) us")
    print("vCPU kicked out of KVM_RUN (intr exits) during the rounds: \(kicks)")
    print(
        "pause alone: median \(percentile(pauses, 0.5)) us, p90 \(percentile(pauses, 0.9)) us, "
            + "max \(percentile(pauses, 1.0)) us")
} catch {
    print("bench-vm: \(error)")
    exit(1)
}
