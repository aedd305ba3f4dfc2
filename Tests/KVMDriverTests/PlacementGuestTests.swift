import Foundation
import Glibc
import KVMDriver
import Testing
import VirtBase
import VirtCore

/// Pinning and memory policy of a running ticks guest, read back from the kernel through `/proc` of its
/// hypervisor process. Needs /dev/kvm and gcc (the tick guest) and at least two online CPUs.
@Suite("kvm:// driver: pinning and memory policy applied to a running guest",
       .enabled(if: TickGuest.available && sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2))
struct PlacementGuestTests {
    static let memoryMiB: UInt64 = 16

    static func document(_ name: String, tuning: String) -> String {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <memory unit='MiB'>\(memoryMiB)</memory>
          <vcpu>2</vcpu>
          \(tuning)
          <os><type>hvm</type><kernel>\(TickGuest.image.path ?? "")</kernel><cmdline>delay=300000</cmdline></os>
          <devices><serial type='file'><source path='/dev/null'/><target port='0'/></serial></devices>
        </domain>
        """
    }

    /// The hypervisor's pid, from its pid file in the run directory.
    static func hypervisorPID(_ root: EmbedRoot, _ name: String) throws -> Int32 {
        let text = try String(contentsOfFile: root.path + "/run/\(name).pid", encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw VirtError(.internalError, .kvm, "bad pid file: \(text)")
        }
        return pid
    }

    /// `comm` → `Cpus_allowed_list` of every thread of `pid`.
    static func threadCPUs(_ pid: Int32) throws -> [(name: String, cpus: String)] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").sorted()
        // A thread may end between the listing and the reads (a monitor connection's thread): skip it.
        return tasks.compactMap { tid in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8),
                let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)
            else { return nil }
            let line = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") } ?? ""
            return (comm.trimmingCharacters(in: .whitespacesAndNewlines),
                    line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces))
        }
    }

    /// The `numa_maps` line of the guest RAM mapping: the one mapping of exactly the guest's size in `maps`.
    static func guestRAMNUMALine(_ pid: Int32) throws -> String? {
        let size = memoryMiB << 20
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8).split(separator: "\n")
        let starts = maps.compactMap { line -> UInt64? in
            let range = line.split(separator: " ").first?.split(separator: "-") ?? []
            guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
                end - start == size
            else { return nil }
            return start
        }
        guard starts.count == 1, let start = starts.first else { return nil }
        let numa = try String(contentsOfFile: "/proc/\(pid)/numa_maps", encoding: .utf8).split(separator: "\n")
        return numa.first { UInt64($0.split(separator: " ").first ?? "", radix: 16) == start }.map(String.init)
    }

    static func startError(_ connection: Connection, _ uuid: UUID) -> String {
        do {
            try connection.start(uuid)
            try? connection.destroy(uuid)
            return "started"
        } catch {
            return "\(error)"
        }
    }

    @Test("vcpupin 0→0, 1→1, emulatorpin 1: each vCPU thread on its CPU, every other thread on CPU 1")
    func pinning() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document("pinned", tuning: """
            <cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/><emulatorpin cpuset='1'/></cputune>
            """)).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let threads = try Self.threadCPUs(try Self.hypervisorPID(root, "pinned"))
        print("hypervisor threads (comm, Cpus_allowed_list): \(threads)")
        #expect(threads.filter { $0.name == "vcpu0" }.map(\.cpus) == ["0"])
        #expect(threads.filter { $0.name == "vcpu1" }.map(\.cpus) == ["1"])
        let others = threads.filter { !$0.name.hasPrefix("vcpu") }
        #expect(others.count >= 2, "main and monitor threads at least: \(others)")
        #expect(others.allSatisfy { $0.cpus == "1" }, "\(others)")
        try connection.destroy(uuid)
        #expect(try connection.summary(uuid).state == .shutoffDestroyed)
    }

    @Test("<emulatorpin> alone: the other threads move, the vCPUs keep the CPUs the hypervisor started with")
    func emulatorOnly() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let uuid = try connection.defineXML(Self.document(
            "emulator-only", tuning: "<cputune><emulatorpin cpuset='0'/></cputune>")).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        // The hypervisor starts with this process's mask (nothing between them changes it).
        let inherited = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("Cpus_allowed_list:") }?.dropFirst("Cpus_allowed_list:".count)
            .trimmingCharacters(in: .whitespaces)
        let threads = try Self.threadCPUs(try Self.hypervisorPID(root, "emulator-only"))
        print("hypervisor threads with emulatorpin 0 only: \(threads)")
        let vcpus = threads.filter { $0.name.hasPrefix("vcpu") }
        #expect(vcpus.count == 2 && vcpus.allSatisfy { $0.cpus == inherited }, "\(vcpus) vs \(inherited ?? "?")")
        #expect(threads.filter { !$0.name.hasPrefix("vcpu") }.allSatisfy { $0.cpus == "0" }, "\(threads)")
        try connection.destroy(uuid)
    }

    @Test("numatune strict → bind:0, interleave → interleave:0, preferred → prefer:0 on the guest RAM mapping", arguments: [
        ("strict", "bind:0"), ("interleave", "interleave:0"), ("preferred", "prefer:0"),
    ])
    func memoryPolicy(mode: String, expected: String) throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let name = "numa-\(mode)"
        let uuid = try connection.defineXML(Self.document(name, tuning: """
            <numatune><memory mode='\(mode)' nodeset='0'/></numatune>
            """)).domain.uuid
        try connection.start(uuid)
        defer { try? connection.destroy(uuid) }
        let line = try Self.guestRAMNUMALine(try Self.hypervisorPID(root, name))
        print("guest RAM numa_maps (\(mode)): \(line ?? "not found")")
        #expect(line?.split(separator: " ").dropFirst().first.map(String.init) == expected, "\(line ?? "nil")")
        try connection.destroy(uuid)
    }

    @Test("a CPU the host lacks and a node beyond the host fail the start, naming the element; nothing runs")
    func refusals() throws {
        let root = try EmbedRoot()
        defer { root.remove() }
        let connection = try Connection.open(root.uri, factories: [KVMDriverFactory()])
        let cpu = try connection.defineXML(Self.document("no-cpu", tuning: """
            <cputune><vcpupin vcpu='1' cpuset='63'/></cputune>
            """)).domain.uuid
        let cpuError = Self.startError(connection, cpu)
        print("start with vcpupin cpuset='63': \(cpuError)")
        #expect(cpuError.contains("<vcpupin vcpu='1' cpuset='63'>") && cpuError.contains("does not have"), "\(cpuError)")
        #expect(try connection.summary(cpu).state.state == .shutoff)

        let node = try connection.defineXML(Self.document("no-node", tuning: """
            <numatune><memory mode='strict' nodeset='7'/></numatune>
            """)).domain.uuid
        let nodeError = Self.startError(connection, node)
        print("start with nodeset='7': \(nodeError)")
        #expect(nodeError.contains("nodeset='7'") && nodeError.contains("NUMA node(s) '7'"), "\(nodeError)")
        #expect(try connection.summary(node).state.state == .shutoff)
        let run = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/run")) ?? []
        #expect(run.filter { $0.hasPrefix("no-") }.isEmpty, "run files left: \(run)")
    }
}
