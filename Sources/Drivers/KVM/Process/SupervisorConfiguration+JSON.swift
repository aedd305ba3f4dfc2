import Host
import Security
import VirtBase

// The configuration's hand-written JSON form (see `JSONCodable`): what `virtsh` hands the supervisor and the
// supervisor hands each hypervisor, read and written without Codable's runtime type lookups. Members carry
// the property names, as Codable's form of the same types does.

extension SupervisorConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        runFiles = try json.required("runFiles")
        onPoweroff = try json.required("onPoweroff")
        onReboot = try json.required("onReboot")
        onCrash = try json.required("onCrash")
        startPaused = try json.required("startPaused")
        machine = try json.required("machine")
        monitorClientUIDs = try json.required("monitorClientUIDs")
        hypervisor = try json.required("hypervisor")
        leases = try json.optional("leases")
        tuning = try json.optional("tuning")
        security = try json.optional("security")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("runFiles", runFiles)
        writer.member("onPoweroff", onPoweroff)
        writer.member("onReboot", onReboot)
        writer.member("onCrash", onCrash)
        writer.member("startPaused", startPaused)
        writer.member("machine", machine)
        writer.member("monitorClientUIDs", monitorClientUIDs)
        writer.member("hypervisor", hypervisor)
        writer.member("leases", ifPresent: leases)
        writer.member("tuning", ifPresent: tuning)
        writer.member("security", ifPresent: security)
        writer.endObject()
    }
}

extension GuestExitAction: JSONCodable {}
extension MachineKind: JSONCodable {}

extension RunFiles: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        name = try json.required("name")
        runDirectory = try json.required("runDirectory")
        logDirectory = try json.required("logDirectory")
        monitorSocket = try json.required("monitorSocket")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("name", name)
        writer.member("runDirectory", runDirectory)
        writer.member("logDirectory", logDirectory)
        writer.member("monitorSocket", monitorSocket)
        writer.endObject()
    }
}

extension HypervisorConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        name = try json.required("name")
        uuid = try json.required("uuid")
        memoryBytes = try json.required("memoryBytes")
        vcpus = try json.required("vcpus")
        topology = try json.required("topology")
        cpuFeatures = try json.required("cpuFeatures")
        kernel = try json.required("kernel")
        initrd = try json.optional("initrd")
        cmdline = try json.required("cmdline")
        disks = try json.required("disks")
        serial = try json.required("serial")
        memoryBacking = try json.required("memoryBacking")
        memoryCells = try json.required("memoryCells")
        kvmDevice = try json.optional("kvmDevice")
        placement = try json.required("placement")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("name", name)
        writer.member("uuid", uuid)
        writer.member("memoryBytes", memoryBytes)
        writer.member("vcpus", vcpus)
        writer.member("topology", topology)
        writer.member("cpuFeatures", cpuFeatures)
        writer.member("kernel", kernel)
        writer.member("initrd", ifPresent: initrd)
        writer.member("cmdline", cmdline)
        writer.member("disks", disks)
        writer.member("serial", serial)
        writer.member("memoryBacking", memoryBacking)
        writer.member("memoryCells", memoryCells)
        writer.member("kvmDevice", ifPresent: kvmDevice)
        writer.member("placement", placement)
        writer.endObject()
    }
}

extension HypervisorConfiguration.Topology: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        sockets = try json.required("sockets")
        dies = try json.required("dies")
        cores = try json.required("cores")
        threads = try json.required("threads")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("sockets", sockets)
        writer.member("dies", dies)
        writer.member("cores", cores)
        writer.member("threads", threads)
        writer.endObject()
    }
}

extension HypervisorConfiguration.CPUFeature: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        name = try json.required("name")
        policy = try json.required("policy")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("name", name)
        writer.member("policy", policy)
        writer.endObject()
    }
}

extension HypervisorConfiguration.CPUFeature.Policy: JSONCodable {}

extension FileSource: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        path = try json.required("path")
        fd = try json.optional("fd")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("path", path)
        writer.member("fd", ifPresent: fd)
        writer.endObject()
    }
}

extension DiskConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        source = try json.required("source")
        readonly = try json.required("readonly")
        serial = try json.optional("serial")
        target = try json.required("target")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("source", source)
        writer.member("readonly", readonly)
        writer.member("serial", ifPresent: serial)
        writer.member("target", target)
        writer.endObject()
    }
}

extension SerialConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        kind = try json.required("kind")
        source = try json.optional("source")
        logFile = try json.optional("logFile")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("kind", kind)
        writer.member("source", ifPresent: source)
        writer.member("logFile", ifPresent: logFile)
        writer.endObject()
    }
}

extension SerialConfiguration.Kind: JSONCodable {}

extension MemoryBackingConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        source = try json.required("source")
        hugePageBytes = try json.optional("hugePageBytes")
        shared = try json.required("shared")
        locked = try json.required("locked")
        mergeable = try json.required("mergeable")
        preallocate = try json.required("preallocate")
        allocationThreads = try json.optional("allocationThreads")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("source", source)
        writer.member("hugePageBytes", ifPresent: hugePageBytes)
        writer.member("shared", shared)
        writer.member("locked", locked)
        writer.member("mergeable", mergeable)
        writer.member("preallocate", preallocate)
        writer.member("allocationThreads", ifPresent: allocationThreads)
        writer.endObject()
    }
}

extension MemoryBackingConfiguration.Source: JSONCodable {}

extension MemoryCellConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        id = try json.optional("id")
        sizeBytes = try json.required("sizeBytes")
        vcpus = try json.optional("vcpus")
        backing = try json.required("backing")
        policy = try json.optional("policy")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("id", ifPresent: id)
        writer.member("sizeBytes", sizeBytes)
        writer.member("vcpus", ifPresent: vcpus)
        writer.member("backing", backing)
        writer.member("policy", ifPresent: policy)
        writer.endObject()
    }
}

extension PlacementConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        vcpuCPUs = try json.required("vcpuCPUs")
        emulatorCPUs = try json.optional("emulatorCPUs")
        memoryPolicy = try json.optional("memoryPolicy")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("vcpuCPUs", vcpuCPUs)
        writer.member("emulatorCPUs", ifPresent: emulatorCPUs)
        writer.member("memoryPolicy", ifPresent: memoryPolicy)
        writer.endObject()
    }
}

extension GuestMemoryPolicy: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        mode = try json.required("mode")
        nodes = try json.required("nodes")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("mode", mode)
        writer.member("nodes", nodes)
        writer.endObject()
    }
}

extension GuestMemoryPolicy.Mode: JSONCodable {}

extension TuningConfiguration: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        cgroupRoot = try json.required("cgroupRoot")
        partition = try json.required("partition")
        groupName = try json.required("groupName")
        required = try json.required("required")
        shares = try json.optional("shares")
        vcpuPeriod = try json.optional("vcpuPeriod")
        vcpuQuota = try json.optional("vcpuQuota")
        emulatorPeriod = try json.optional("emulatorPeriod")
        emulatorQuota = try json.optional("emulatorQuota")
        vcpuCPUs = try json.required("vcpuCPUs")
        emulatorCPUs = try json.optional("emulatorCPUs")
        mems = try json.optional("mems")
        vcpuSchedules = try json.required("vcpuSchedules")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("cgroupRoot", cgroupRoot)
        writer.member("partition", partition)
        writer.member("groupName", groupName)
        writer.member("required", required)
        writer.member("shares", ifPresent: shares)
        writer.member("vcpuPeriod", ifPresent: vcpuPeriod)
        writer.member("vcpuQuota", ifPresent: vcpuQuota)
        writer.member("emulatorPeriod", ifPresent: emulatorPeriod)
        writer.member("emulatorQuota", ifPresent: emulatorQuota)
        writer.member("vcpuCPUs", vcpuCPUs)
        writer.member("emulatorCPUs", ifPresent: emulatorCPUs)
        writer.member("mems", ifPresent: mems)
        writer.member("vcpuSchedules", vcpuSchedules)
        writer.endObject()
    }
}

extension SupervisorLeases: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        configDirectory = try json.required("configDirectory")
        runDirectory = try json.required("runDirectory")
        daemonExecutable = try json.optional("daemonExecutable")
        onLockFailure = try json.required("onLockFailure")
        resources = try json.required("resources")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("configDirectory", configDirectory)
        writer.member("runDirectory", runDirectory)
        writer.member("daemonExecutable", ifPresent: daemonExecutable)
        writer.member("onLockFailure", onLockFailure)
        writer.member("resources", resources)
        writer.endObject()
    }
}

extension SupervisorLeases.Resource: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        kind = try json.required("kind")
        name = try json.required("name")
        lockspace = try json.required("lockspace")
        resource = try json.required("resource")
        exclusive = try json.required("exclusive")
        label = try json.required("label")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("kind", kind)
        writer.member("name", name)
        writer.member("lockspace", lockspace)
        writer.member("resource", resource)
        writer.member("exclusive", exclusive)
        writer.member("label", label)
        writer.endObject()
    }
}

extension LeaseKind: JSONCodable {}
extension LeaseFailureAction: JSONCodable {}

/// `<run>/<name>.leases`: written by the supervisor when it takes the leases (before the guest runs), read by
/// every command's reconciliation.
extension DomainLeaseStatus: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        self.init(
            supervisorPID: try json.required("supervisorPID"), daemonPID: try json.optional("daemonPID"),
            onLockFailure: try json.required("onLockFailure"), action: try json.optional("action"),
            pausedForLockFailure: try json.required("pausedForLockFailure"), leases: try json.required("leases"),
            epochSeconds: try json.required("epochSeconds"))
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("supervisorPID", supervisorPID)
        writer.member("daemonPID", ifPresent: daemonPID)
        writer.member("onLockFailure", onLockFailure)
        writer.member("action", ifPresent: action)
        writer.member("pausedForLockFailure", pausedForLockFailure)
        writer.member("leases", leases)
        writer.member("epochSeconds", epochSeconds)
        writer.endObject()
    }
}

extension DomainLeaseStatus.State: JSONCodable {}

extension DomainLeaseStatus.Entry: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        self.init(
            resource: try json.required("resource"), state: try json.required("state"), error: try json.optional("error"))
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("resource", resource)
        writer.member("state", state)
        writer.member("error", ifPresent: error)
        writer.endObject()
    }
}

// The start's pipe reports (hypervisor → supervisor → `virtsh`), written and read as the guest begins to run.

/// Codable's form of an enumeration with associated values: one member named after the case, holding an object
/// of the case's values (`{"poweroff":{"code":0}}`, `{"stopped":{}}`).
extension GuestExit: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        guard case .object(let members) = json.value, members.count == 1 else {
            throw json.wrong("an object with one member: poweroff, reset, crashed, internalError or stopped")
        }
        let values: JSONField = JSONField(members[0].1, path: json.member(members[0].0))
        guard case .object = values.value else { throw values.wrong("an object") }
        switch members[0].0 {
        case "poweroff": self = .poweroff(code: try values.required("code"))
        case "reset": self = .reset
        case "crashed": self = .crashed(reason: try values.required("reason"))
        case "internalError": self = .internalError(reason: try values.required("reason"))
        case "stopped": self = .stopped
        default: throw json.wrong("one of poweroff, reset, crashed, internalError or stopped")
        }
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        switch self {
        case .poweroff(let code):
            writer.key("poweroff")
            writer.beginObject()
            writer.member("code", code)
        case .reset:
            writer.key("reset")
            writer.beginObject()
        case .crashed(let reason):
            writer.key("crashed")
            writer.beginObject()
            writer.member("reason", reason)
        case .internalError(let reason):
            writer.key("internalError")
            writer.beginObject()
            writer.member("reason", reason)
        case .stopped:
            writer.key("stopped")
            writer.beginObject()
        }
        writer.endObject()
        writer.endObject()
    }
}

extension ProcessIdentity: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        pid = try json.required("pid")
        startTime = try json.required("startTime")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pid", pid)
        writer.member("startTime", startTime)
        writer.endObject()
    }
}

extension LaunchReport: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        self.init(
            supervisor: try json.optional("supervisor"), hypervisor: try json.optional("hypervisor"),
            error: try json.optional("error"), errorCode: try json.optional("errorCode"))
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("supervisor", ifPresent: supervisor)
        writer.member("hypervisor", ifPresent: hypervisor)
        writer.member("error", ifPresent: error)
        writer.member("errorCode", ifPresent: errorCode)
        writer.endObject()
    }
}
