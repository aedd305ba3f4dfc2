import Host
import KVM
import Security
import Testing
import VirtBase

/// The configuration's hand-written JSON form against Codable's form of the same types: every member is
/// read and written by both, so a configuration written by either codec reads back equal with the other.
@Suite struct ConfigurationJSONTests {
    /// Every member present, every optional set, arrays with several elements (nil among them where the
    /// element is optional), and strings that need escapes.
    static let full = #"""
        {"runFiles":{"name":"web-1","runDirectory":"/run/swift-virt","logDirectory":"/var/log/swift-virt",
          "monitorSocket":"/run/swift-virt/web-1.monitor"},
         "onPoweroff":"destroy","onReboot":"restart","onCrash":"restart","startPaused":true,"machine":"simulated",
         "monitorClientUIDs":[1000,4294967295],
         "hypervisor":{"name":"web-1","uuid":"f0477b4b-8288-447d-aaa2-60474ddbaaa6","memoryBytes":17179869184,
          "vcpus":4,"topology":{"sockets":1,"dies":1,"cores":2,"threads":2},
          "cpuFeatures":[{"name":"vmx","policy":"disable"},{"name":"sse4.2","policy":"require"}],
          "kernel":{"path":"/boot/vmlinux","fd":6},"initrd":{"path":"/boot/initrd.img"},
          "cmdline":"console=ttyS0 quote=\" back=\\ tab=\t é ✓","disks":[
            {"source":{"path":"/var/lib/a.raw","fd":7},"readonly":false,"serial":"SER-1","target":"vda"},
            {"source":{"path":"/var/lib/b.raw"},"readonly":true,"target":"vdb"}],
          "serial":{"kind":"file","source":{"path":"/tmp/console","fd":8},"logFile":{"path":"/tmp/log"}},
          "memoryBacking":{"source":"hugetlb","hugePageBytes":2097152,"shared":true,"locked":true,
            "mergeable":false,"preallocate":true,"allocationThreads":2},
          "memoryCells":[{"id":0,"sizeBytes":8589934592,"vcpus":"0-1","backing":{"source":"memfd","shared":false,
            "locked":false,"mergeable":true,"preallocate":false},"policy":{"mode":"bind","nodes":"0"}},
            {"sizeBytes":8589934592,"backing":{"source":"anonymous","shared":false,"locked":false,
            "mergeable":true,"preallocate":false}}],
          "kvmDevice":{"path":"/dev/kvm","fd":5},
          "placement":{"vcpuCPUs":["0",null,"1-3,8"],"emulatorCPUs":"0-1","memoryPolicy":{"mode":"interleave",
            "nodes":"0"}}},
         "leases":{"configDirectory":"/etc/swift-virt","runDirectory":"/run/swift-virt",
          "daemonExecutable":"/usr/sbin/virtlockd",
          "onLockFailure":"pause","resources":[{"kind":"disk","name":"vda","lockspace":"","resource":"/var/lib/a.raw",
          "exclusive":true,"label":"vda"},{"kind":"lease","name":"l1","lockspace":"space","resource":"key",
          "exclusive":false,"label":"lease l1"}]},
         "tuning":{"cgroupRoot":"/sys/fs/cgroup","partition":"machine","groupName":"swift-virt-web-1","required":true,
          "shares":2048,"vcpuPeriod":100000,"vcpuQuota":-1,"emulatorPeriod":50000,"emulatorQuota":25000,
          "vcpuCPUs":["0",null],"emulatorCPUs":"1","mems":"0",
          "vcpuSchedules":[{"policy":"fifo","priority":10},null]},
         "security":{"labels":{"labels":[{"model":"selinux","doi":"0","type":"dynamic","relabel":true,
          "label":"system_u:system_r:svirt_t:s0:c1,c2","imageLabel":"system_u:object_r:svirt_image_t:s0:c1,c2",
          "baseLabel":"system_u:system_r:svirt_t:s0","categories":{"low":1,"high":2},"enforcement":"permissive"},
          {"model":"dac","doi":"0","type":"static","relabel":false,"label":"+107:+107","enforcement":"not enforced"}]},
          "files":[{"model":"dac","remember":true,"actions":[{"path":"/var/lib/a.raw","label":"+107:+107"}]}],
          "credentials":{"execLabel":"system_u:system_r:svirt_t:s0:c1,c2","execLabelPath":"/proc/self/attr/exec",
          "execLabelRequired":true,"identity":{"uid":107,"gid":107,"groups":[36,107]},"dropBoundingSetThrough":40},
          "seccompDenied":["ptrace","kexec_load"]}}
        """#

    /// Nothing optional: every optional member absent, arrays empty.
    static let minimal = #"""
        {"runFiles":{"name":"m","runDirectory":"/r","logDirectory":"/l","monitorSocket":"/r/m.monitor"},
         "onPoweroff":"destroy","onReboot":"destroy","onCrash":"destroy","startPaused":false,"machine":"kvm",
         "monitorClientUIDs":[],
         "hypervisor":{"name":"m","uuid":"u","memoryBytes":0,"vcpus":1,
          "topology":{"sockets":1,"dies":1,"cores":1,"threads":1},"cpuFeatures":[],"kernel":{"path":"/k"},
          "cmdline":"","disks":[],"serial":{"kind":"none"},"memoryBacking":{"source":"anonymous","shared":false,
          "locked":false,"mergeable":false,"preallocate":false},"memoryCells":[],"placement":{"vcpuCPUs":[]}}}
        """#

    /// Objects with their members sorted, recursively: two documents with equal content compare equal.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(members.map { ($0.0, canonical($0.1)) }.sorted { $0.0 < $1.0 })
        case .array(let items): .array(items.map(canonical))
        default: value
        }
    }

    @Test(arguments: [full, minimal])
    func bothCodecsReadTheSameConfiguration(_ text: String) throws {
        let bytes = Array(text.utf8)
        let hand = try SupervisorConfiguration.decodeJSON(bytes)
        let codable = try FrameCodec.decode(SupervisorConfiguration.self, from: bytes)
        #expect(hand == codable)
        // Written by hand, the document is the one read: no member lost, none added, none changed.
        let written = try #require(JSONValue.parse(hand.jsonLine()))
        #expect(Self.canonical(written) == Self.canonical(try #require(JSONValue.parse(bytes))))
        // Each codec reads what the other writes.
        #expect(try FrameCodec.decode(SupervisorConfiguration.self, from: hand.jsonLine()) == hand)
        #expect(try SupervisorConfiguration.decodeJSON(FrameCodec.jsonLine(codable)) == codable)
    }

    @Test func theFullFixtureSetsEveryOptional() throws {
        let value = try SupervisorConfiguration.decodeJSON(Array(Self.full.utf8))
        #expect(value.leases?.daemonExecutable != nil && value.tuning?.mems != nil)
        #expect(value.hypervisor.initrd != nil && value.hypervisor.kvmDevice != nil)
        #expect(value.hypervisor.placement.vcpuCPUs.contains(nil))
        #expect(value.security?.credentials.identity?.groups == [36, 107])
        #expect(value.hypervisor.cmdline.contains("\"") && value.hypervisor.cmdline.contains("✓"))
        #expect(value.tuning?.vcpuSchedules.first??.policy == .fifo)
    }

    /// The security plan is also a document of its own: the labels file a supervisor leaves until it restores.
    @Test func theSecurityPlanRoundTrips() throws {
        let plan = try #require(try SupervisorConfiguration.decodeJSON(Array(Self.full.utf8)).security)
        #expect(try HypervisorSecurityPlan.decodeJSON(plan.jsonLine()) == plan)
        #expect(try FrameCodec.decode(HypervisorSecurityPlan.self, from: plan.jsonLine()) == plan)
    }

    /// Each hostile document fails with the member's path and what it must be.
    @Test(arguments: [
        (#"{"runFiles":1}"#, "'runFiles' must be an object"),
        ("not json", "'(document)' must be one valid JSON document"),
        ("[]", "'(document)' must be an object"),
    ])
    func malformedDocumentsAreNamed(_ text: String, _ message: String) {
        #expect(throws: JSONShapeError.self) { try SupervisorConfiguration.decodeJSON(Array(text.utf8)) }
        do {
            _ = try SupervisorConfiguration.decodeJSON(Array(text.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(arguments: [
        (#""vcpus":4"#, #""vcpus":"4""#, "'hypervisor.vcpus' must be a 64-bit integer"),
        (#""onCrash":"restart""#, #""onCrash":"reboot""#, "'onCrash' must be a known value, not 'reboot'"),
        ("[1000,4294967295]", "[1000,4294967296]", "'monitorClientUIDs.1' must be an unsigned 32-bit integer"),
        (#""readonly":true"#, #""readonly":1"#, "'hypervisor.disks.1.readonly' must be true or false"),
        (#""name":"web-1","uuid""#, #""uuid""#, "'hypervisor.name' must be present"),
        (#""1-3,8""#, #""3-1""#, "'hypervisor.placement.vcpuCPUs.2' must be a CPU list such as '0-3,8', not '3-1'"),
        (#""uid":107"#, #""uid":-107"#, "'security.credentials.identity.uid' must be an unsigned 32-bit integer"),
    ])
    func wrongMembersAreNamedByPath(_ original: String, _ replacement: String, _ message: String) throws {
        let text = Self.full.replacing(original, with: replacement)
        #expect(text != Self.full)
        do {
            _ = try SupervisorConfiguration.decodeJSON(Array(text.utf8))
            Issue.record("accepted: \(replacement)")
        } catch {
            #expect(error.description == message)
        }
    }
}

/// The start's reports, written by hand, read back by both codecs.
@Suite struct ReportJSONTests {
    static let exits: [GuestExit] = [
        .poweroff(code: 0x31), .reset, .crashed(reason: "triple fault"), .internalError(reason: "entry \"failed\""),
        .stopped,
    ]

    @Test(arguments: exits)
    func guestExitsRoundTrip(_ exit: GuestExit) throws {
        #expect(try GuestExit.decodeJSON(exit.jsonLine()) == exit)
        #expect(try FrameCodec.decode(GuestExit.self, from: exit.jsonLine()) == exit)
        #expect(try GuestExit.decodeJSON(FrameCodec.jsonLine(exit)) == exit)
    }

    @Test func launchReportsRoundTrip() throws {
        let full = LaunchReport(
            supervisor: ProcessIdentity(pid: 12, startTime: 345), hypervisor: ProcessIdentity(pid: 13, startTime: 346),
            error: "lease refused", errorCode: "resourceBusy")
        for report in [full, LaunchReport(supervisor: nil, hypervisor: nil, error: nil)] {
            #expect(try LaunchReport.decodeJSON(report.jsonLine()) == report)
            #expect(try FrameCodec.decode(LaunchReport.self, from: report.jsonLine()) == report)
            #expect(try LaunchReport.decodeJSON(FrameCodec.jsonLine(report)) == report)
        }
    }

    @Test(arguments: [
        (#"{"poweroff":{"code":-1}}"#, "'poweroff.code' must be an unsigned 32-bit integer"),
        (#"{"halted":{}}"#, "'(document)' must be one of poweroff, reset, crashed, internalError or stopped"),
        (#"{"reset":{},"stopped":{}}"#,
         "'(document)' must be an object with one member: poweroff, reset, crashed, internalError or stopped"),
        (#"{"crashed":"x"}"#, "'crashed' must be an object"),
    ])
    func malformedExitsAreNamed(_ text: String, _ message: String) {
        do {
            _ = try GuestExit.decodeJSON(Array(text.utf8))
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description == message)
        }
    }
}
