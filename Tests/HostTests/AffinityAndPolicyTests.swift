import Foundation
import Glibc
import Testing
import VirtBase
@testable import Host

/// Thread affinity and memory policy applied for real on this host, and read back from the kernel.
@Suite("Thread affinity and mbind on this host")
struct AffinityAndPolicyTests {
    /// Runs `body` on a new thread (so pinning it leaves the test runner's threads alone) and returns its result.
    private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.set(Result { try body() })
            done.signal()
        }
        thread.start()
        done.wait()
        return try box.get()
    }

    @Test func pinReadBackThroughTheKernelAndProc() throws {
        let online = try HostTopology.read().online
        let target = CPUSet([online.max ?? 0])
        let seen = try onOwnThread { () throws -> (CPUSet, CPUSet, CPUSet) in
            let tid = ThreadAffinity.currentThreadID()
            let original = try ThreadAffinity.get()
            try ThreadAffinity.set(target, thread: tid)
            let proc = try ThreadAffinity.allowedCPUs(pid: getpid(), thread: tid)
            let kernel = try ThreadAffinity.get(thread: tid)
            try ThreadAffinity.set(original)
            return (kernel, proc, try ThreadAffinity.allowedCPUs(pid: getpid(), thread: tid))
        }
        #expect(seen.0 == target)
        #expect(seen.1 == target)
        #expect(seen.2.count >= 1)
        #expect(seen.2 != target || online.count == 1, "restored to the wider set")
    }

    @Test func pinningToAMissingCPUFailsClearly() throws {
        let online = try HostTopology.read().online
        let missing = CPUSet([(online.max ?? 0) + 100])
        #expect {
            try onOwnThread { try ThreadAffinity.set(missing) }
        } throws: { error in
            guard let error = error as? VirtError else { return false }
            return error.errno == EINVAL && error.message.hasPrefix("cannot set CPU affinity on process 0 to '")
        }
        #expect(throws: VirtError.self) { try ThreadAffinity.set(CPUSet()) }
    }

    @Test func cpusAllowedListOfAnotherProcessAndAMissingThread() throws {
        let me = ThreadAffinity.currentThreadID()
        #expect(try ThreadAffinity.allowedCPUs(pid: getpid(), thread: me) == (try ThreadAffinity.get()))
        #expect(throws: VirtError.self) { try ThreadAffinity.allowedCPUs(pid: getpid(), thread: Int32.max) }
    }

    @Test(arguments: [MemoryPolicy.Mode.bind, .interleave, .preferred])
    func mbindOnAnonymousMemory(_ mode: MemoryPolicy.Mode) throws {
        let length = 4 * Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapping = try #require(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, length) }
        try MemoryPolicy.apply(mode, nodes: CPUSet([0]), address: mapping, length: length)
        mapping.storeBytes(of: 1, as: UInt8.self)
        let policy = try MemoryPolicy.policy(at: mapping)
        #expect(policy.mode == mode)
        #expect(policy.nodes == CPUSet([0]))
        // numa_maps shows the policy of the mapping's VMA ("<start> bind:0 anon=1 ..."); the VMA may start before
        // our address when the kernel merged it with a neighbour of the same policy, so find it in maps first.
        let address = UInt(bitPattern: mapping)
        let vmas = try HostFileSystem().read("/proc/self/maps").split(separator: "\n")
        let vma = try #require(vmas.first { line in
            let range = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            return range.count == 2 && range[0] <= address && address < range[1]
        })
        let start = String(vma.split(separator: "-")[0])
        let maps = try HostFileSystem().read("/proc/self/numa_maps")
        let line = try #require(maps.split(separator: "\n").first { $0.hasPrefix(start + " ") })
        #expect(line.contains(" \(mode.numaMapsName):0 ") || line.contains(" \(mode.numaMapsName)=0 "), "\(line)")
    }

    @Test func mbindErrors() throws {
        let length = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapping = try #require(mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(mapping, length) }
        #expect(throws: VirtError(.invalidArgument, .host, "NUMA memory mode 'bind' needs a nodeset")) {
            try MemoryPolicy.apply(.bind, nodes: CPUSet(), address: mapping, length: length)
        }
        // Node 1000 does not exist here: the kernel refuses.
        #expect { try MemoryPolicy.apply(.bind, nodes: CPUSet([1000]), address: mapping, length: length) } throws: {
            ($0 as? VirtError)?.errno == EINVAL
        }
        try MemoryPolicy.apply(.default, nodes: CPUSet(), address: mapping, length: length)
        #expect(try MemoryPolicy.policy(at: mapping).mode == .default)
    }
}

/// Carries a thread's result back to the test.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw VirtError(.internalError, .host, "thread produced no result") }
        return try result.get()
    }
}
