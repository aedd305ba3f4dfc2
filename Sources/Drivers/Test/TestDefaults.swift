import Foundation
import VirtCore

/// libvirt's `test:///default` configuration: the predefined domain, the host's `nodeinfo` and its
/// capabilities (two NUMA cells of eight CPUs), as libvirt 9.0's test driver reports them.
enum TestDefaults {
    /// The predefined running domain's uuid.
    static let domainUUID = UUID(uuidString: "6695eb01-f6a4-8304-79aa-97f2502e193f")!
    /// The predefined domain's name.
    static let domainName = "test"
    /// `<memory>` of the predefined domain: 8 GiB in KiB.
    static let domainMemoryKiB: UInt64 = 8_388_608
    /// `<currentMemory>` of the predefined domain: 2 GiB in KiB.
    static let domainCurrentMemoryKiB: UInt64 = 2_097_152
    /// The predefined domain's vCPUs.
    static let domainVCPUs = 2
    /// libvirt's test driver reports `virConnectGetVersion` = 2, which virsh prints as `0.0.2`.
    static let hypervisorVersion = "0.0.2"
    /// `virDomainGetOSType` in libvirt's test driver answers `linux` for every domain.
    static let osType = "linux"
    /// The test security driver's model, DOI and process label.
    static let securityModel = "testSecurity"
    static let securityDOI = ""
    static let securityLabel = "libvirt-test"
    /// Architecture of the test host and its guests.
    static let arch = "i686"
    /// The emulator path libvirt's test capabilities advertise.
    static let emulator = "/usr/bin/test-hv"
    /// NUMA cells and CPUs per cell of the test host.
    static let cellCount = 2
    static let cpusPerCell = 8

    /// The predefined domain `test`, as libvirt's default test configuration defines it.
    static func domain() -> DomainDefinition {
        var definition = DomainDefinition(
            type: .test, name: domainName, uuid: domainUUID, memoryKiB: domainMemoryKiB)
        definition.currentMemoryKiB = domainCurrentMemoryKiB
        definition.vcpu = VCPUConfig(count: domainVCPUs, placement: .static)
        definition.os.type = "hvm"
        definition.os.arch = arch
        definition.os.bootDevices = [.hd]
        var disk = Disk(type: .file, device: .disk, source: "/guest/diskimage1", target: "vda")
        disk.bus = "virtio"
        definition.devices.disks = [disk]
        var interface = Interface(type: "network")
        interface.mac = "aa:bb:cc:dd:ee:ff"
        interface.sourceAttribute = "network"
        interface.sourceValue = "default"
        interface.targetDev = "testnet0"
        definition.devices.interfaces = [interface]
        return definition
    }

    /// libvirt's `defaultNodeInfo`: i686, 3 GiB, 16 CPUs at 1400 MHz, 2 cells × 2 sockets × 2 cores × 2 threads.
    static let nodeInfo = NodeInfo(
        model: arch, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2, memoryKiB: 3_145_728)

    /// The test host's capabilities: cell `i` has `(i + 1) × 2 GiB` of memory in pages of 4 KiB (cell 0)
    /// or 8 KiB (cell 1), and CPUs `8i … 8i+7` on socket `i`, one core each.
    static func capabilities() -> Capabilities {
        var cpu = Capabilities.HostCPU(arch: arch)
        cpu.hostFeatures = ["pae", "nonpae"]
        cpu.pageSizesKiB = [4, 8, 2048, 1_048_576]
        var host = Capabilities.Host(cpu: cpu)
        host.iommuSupport = false
        host.cells = (0..<cellCount).map { index in
            let memoryKiB = UInt64(index + 1) * 2048 * 1024
            let basePageKiB: UInt64 = index == 0 ? 4 : 8
            var cell = Capabilities.NUMACell(id: index, memoryKiB: memoryKiB)
            cell.pages = [
                .init(sizeKiB: basePageKiB, count: 524_288),
                .init(sizeKiB: 2048, count: 0),
                .init(sizeKiB: 1_048_576, count: 0),
            ]
            cell.cpus = (0..<cpusPerCell).map { core in
                let id = index * cpusPerCell + core
                return .init(id: id, socketID: index, dieID: 0, coreID: core, siblings: CPUSet([id]))
            }
            return cell
        }
        host.securityModels = [Capabilities.SecurityModel(model: securityModel, doi: securityDOI)]
        let guests = ["hvm", "xen"].map { osType in
            var guest = Capabilities.Guest(
                osType: osType, arch: arch, wordSize: 32, emulator: emulator, domainTypes: ["test"])
            guest.features = [.init(name: "pae"), .init(name: "nonpae")]
            return guest
        }
        return Capabilities(host: host, guests: guests)
    }
}
