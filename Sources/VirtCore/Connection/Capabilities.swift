import Foundation

/// The host and guest capabilities a driver reports (`virsh capabilities`), as libvirt's
/// `virCaps`: the host CPU and page sizes, the NUMA topology, security models, and the guest types
/// the driver can run. `xml()` formats libvirt's capabilities document.
public struct Capabilities: Sendable, Equatable {
    /// `<host>`.
    public var host: Host
    /// `<guest>` blocks, in order.
    public var guests: [Guest]

    public init(host: Host, guests: [Guest]) {
        self.host = host
        self.guests = guests
    }

    /// `<host>`.
    public struct Host: Sendable, Equatable {
        /// `<uuid>`: the host's uuid, when known.
        public var uuid: String?
        /// `<cpu>`.
        public var cpu: HostCPU
        /// `<power_management>` children (`suspend_mem`, `suspend_disk`, `suspend_hybrid`).
        public var powerManagement: [String] = []
        /// `<iommu support=...>`; nil omits the element.
        public var iommuSupport: Bool?
        /// `<topology><cells>`; empty omits the element.
        public var cells: [NUMACell] = []
        /// `<secmodel>` blocks.
        public var securityModels: [SecurityModel] = []

        public init(uuid: String? = nil, cpu: HostCPU) {
            self.uuid = uuid
            self.cpu = cpu
        }
    }

    /// `<host><cpu>`.
    public struct HostCPU: Sendable, Equatable {
        /// `<arch>`: `x86_64`, `i686`.
        public var arch: String
        /// `<features>` children, host-wide flags such as `pae` (libvirt's `virCapabilitiesAddHostFeature`).
        public var hostFeatures: [String] = []
        /// `<model>`.
        public var model: String?
        /// `<vendor>`.
        public var vendor: String?
        /// `<topology sockets dies cores threads/>`.
        public var topology: Topology?
        /// `<feature name=.../>` CPU flags.
        public var features: [String] = []
        /// `<pages unit='KiB' size=.../>`: the page sizes the host supports, in KiB.
        public var pageSizesKiB: [UInt64] = []

        public init(arch: String) { self.arch = arch }

        /// `<topology>` of the host CPU.
        public struct Topology: Sendable, Equatable {
            public var sockets: Int
            public var dies: Int
            public var cores: Int
            public var threads: Int
            public init(sockets: Int, dies: Int, cores: Int, threads: Int) {
                self.sockets = sockets
                self.dies = dies
                self.cores = cores
                self.threads = threads
            }
        }
    }

    /// `<cell>`: one host NUMA node.
    public struct NUMACell: Sendable, Equatable {
        public var id: Int
        /// `<memory unit='KiB'>`; 0 (a memoryless node) omits the element, as libvirt does.
        public var memoryKiB: UInt64
        /// `<pages unit='KiB' size=...>count</pages>`: pages of each size in the node.
        public var pages: [PageCount] = []
        /// `<distances><sibling id value/>`; empty omits the element.
        public var distances: [Distance] = []
        /// `<cpus>`.
        public var cpus: [CPU] = []

        public init(id: Int, memoryKiB: UInt64) {
            self.id = id
            self.memoryKiB = memoryKiB
        }

        /// A page size and how many pages of it the node has.
        public struct PageCount: Sendable, Equatable {
            public var sizeKiB: UInt64
            public var count: UInt64
            public init(sizeKiB: UInt64, count: UInt64) {
                self.sizeKiB = sizeKiB
                self.count = count
            }
        }

        /// `<sibling id value/>`.
        public struct Distance: Sendable, Equatable {
            public var id: Int
            public var value: Int
            public init(id: Int, value: Int) {
                self.id = id
                self.value = value
            }
        }

        /// `<cpu id socket_id die_id core_id siblings/>`, or `<cpu id/>` for a CPU without topology.
        public struct CPU: Sendable, Equatable {
            public var id: Int
            /// Where the CPU sits; nil formats the id alone.
            public var topology: Topology?

            /// A CPU whose topology the host does not report.
            public init(id: Int) { self.id = id }

            /// A CPU with its socket, die, core and thread siblings.
            public init(id: Int, socketID: Int, dieID: Int, coreID: Int, siblings: CPUSet) {
                self.id = id
                topology = Topology(socketID: socketID, dieID: dieID, coreID: coreID, siblings: siblings)
            }

            /// A CPU's place in the host.
            public struct Topology: Sendable, Equatable {
                public var socketID: Int
                public var dieID: Int
                public var coreID: Int
                /// Hardware threads sharing the core (the CPU itself included).
                public var siblings: CPUSet
                public init(socketID: Int, dieID: Int, coreID: Int, siblings: CPUSet) {
                    self.socketID = socketID
                    self.dieID = dieID
                    self.coreID = coreID
                    self.siblings = siblings
                }
            }
        }
    }

    /// `<secmodel>`.
    public struct SecurityModel: Sendable, Equatable {
        /// `<model>`: `selinux`, `dac`, `testSecurity`.
        public var model: String
        /// `<doi>`: may be empty.
        public var doi: String
        /// `<baselabel type=...>label</baselabel>` per domain type.
        public var baseLabels: [BaseLabel] = []

        public init(model: String, doi: String, baseLabels: [BaseLabel] = []) {
            self.model = model
            self.doi = doi
            self.baseLabels = baseLabels
        }

        /// A base label for one domain type.
        public struct BaseLabel: Sendable, Equatable {
            public var domainType: String
            public var label: String
            public init(domainType: String, label: String) {
                self.domainType = domainType
                self.label = label
            }
        }
    }

    /// `<guest>`: one OS type and architecture the driver can run.
    public struct Guest: Sendable, Equatable {
        /// `<os_type>`: `hvm`, `xen`.
        public var osType: String
        /// `<arch name>`.
        public var arch: String
        /// `<wordsize>`.
        public var wordSize: Int
        /// `<emulator>`.
        public var emulator: String?
        /// `<machine>` names.
        public var machines: [String] = []
        /// `<domain type>` values.
        public var domainTypes: [String]
        /// `<features>` children.
        public var features: [Feature] = []

        public init(osType: String, arch: String, wordSize: Int, emulator: String?, domainTypes: [String]) {
            self.osType = osType
            self.arch = arch
            self.wordSize = wordSize
            self.emulator = emulator
            self.domainTypes = domainTypes
        }

        /// A guest feature: `<pae/>`, or `<acpi default='on' toggle='yes'/>`.
        public struct Feature: Sendable, Equatable {
            public var name: String
            /// `default='on|off'`; nil omits it.
            public var defaultOn: Bool?
            /// `toggle='yes|no'`; nil omits it.
            public var toggle: Bool?
            public init(name: String, defaultOn: Bool? = nil, toggle: Bool? = nil) {
                self.name = name
                self.defaultOn = defaultOn
                self.toggle = toggle
            }
        }
    }
}
