import Foundation
import Host
import VirtCore

/// `nodeinfo` and `capabilities` for kvm://, read from the host's sysfs and procfs by the Host module.
extension KVMDriver {
    /// `nodeinfo`: libvirt's node information rules over the host topology.
    func hostNodeInfo() throws -> VirtCore.NodeInfo {
        let info = try HostNodeInfo(try HostTopology.read(root: hostRoot))
        return VirtCore.NodeInfo(
            model: info.model, cpus: info.cpus, mhz: info.mhz, nodes: info.nodes, sockets: info.sockets,
            cores: info.cores, threads: info.threads, memoryKiB: info.memoryKiB)
    }

    /// `capabilities`: the host CPU, its page sizes and NUMA topology, and the guests this driver runs.
    func hostCapabilities() throws -> Capabilities {
        let topology = try HostTopology.read(root: hostRoot)
        var cpu = Capabilities.HostCPU(arch: topology.arch)
        cpu.model = topology.cpuModelName
        cpu.pageSizesKiB = topology.pageSizesKiB
        var host = Capabilities.Host(cpu: cpu)
        host.iommuSupport = false
        host.cells = topology.nodes.map { node in
            let cell = CapabilitiesCell(node: node, in: topology)
            var result = Capabilities.NUMACell(id: cell.id, memoryKiB: cell.memoryKiB)
            result.pages = cell.pages.map { .init(sizeKiB: $0.sizeKiB, count: $0.count) }
            result.distances = cell.distances.map { .init(id: $0.node, value: $0.value) }
            result.cpus = cell.cpus.map { cpu in
                guard let place = cpu.topology else { return .init(id: cpu.id) }
                return .init(
                    id: cpu.id, socketID: place.socket, dieID: place.die, coreID: place.core,
                    siblings: place.siblings)
            }
            return result
        }
        host.securityModels = try hostSecurityModels()
        var guest = Capabilities.Guest(
            osType: "hvm", arch: topology.arch, wordSize: topology.arch == "x86_64" ? 64 : 32,
            emulator: (try? DomainProcess.locateExecutable()) ?? "virt-kvm", domainTypes: ["kvm"])
        // The in-kernel LAPIC is always there; ACPI tables are not built yet, so ACPI is off and cannot be turned on.
        guest.features = [
            .init(name: "acpi", defaultOn: false, toggle: false), .init(name: "apic", defaultOn: true, toggle: false),
        ]
        return Capabilities(host: host, guests: [guest])
    }
}
