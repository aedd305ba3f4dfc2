import Locking
import Testing
import VirtBase

@Suite struct LeasePlanTests {
    @Test func directLockspaceLeasesWritableAndShareableButNotReadOnly() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = dir.file("a.img")
        let b = dir.file("b.img")
        let c = dir.file("c.iso")
        let resources = try LeasePlan.resources(
            disks: [
                .init(path: a, access: .writable), .init(path: b, access: .shareable),
                .init(path: c, access: .readOnly),
            ],
            leases: [], config: LockdConfig())
        #expect(resources.map(\.name) == [a, b])
        #expect(resources.map(\.mode) == [.exclusive, .shared])
        #expect(resources.allSatisfy { $0.lockspace.isEmpty })
        #expect(resources[0].label == "disk '\(a)'")
    }

    @Test func indirectLockspaceNamesTheLeaseFileBySHA256OfTheCanonicalPath() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        _ = TestProcess.run(["/bin/ln", "-s", disk, dir.path + "/link.img"])
        var config = LockdConfig()
        config.fileLockspaceDir = "/var/lib/swift-virt/lockd/files"
        let resources = try LeasePlan.resources(
            disks: [.init(path: dir.path + "/link.img", access: .writable), .init(path: disk, access: .shareable)],
            leases: [], config: config)
        // Both paths name one file: one resource, in the stronger mode.
        #expect(resources.count == 1)
        #expect(resources[0].lockspace == "/var/lib/swift-virt/lockd/files")
        #expect(resources[0].name == SHA256.hexDigest(try Posix.canonicalPath(disk)))
        #expect(resources[0].mode == .exclusive)
    }

    @Test func explicitLeasesAndRequireLeaseForDisks() throws {
        var config = LockdConfig()
        config.autoDiskLeases = false
        config.requireLeaseForDisks = true
        #expect {
            try LeasePlan.resources(disks: [.init(path: "/srv/a.img", access: .writable)], leases: [], config: config)
        } throws: { "\($0)".contains("Read/write, exclusive access, disks were present, but no leases specified") }
        let resources = try LeasePlan.resources(
            disks: [.init(path: "/srv/a.img", access: .writable)],
            leases: [ExplicitLease(lockspace: "space", key: "web", targetPath: "/var/lib/leases")], config: config)
        #expect(
            resources == [
                LeaseResource(
                    lockspace: "/var/lib/leases/space", name: "web", mode: .exclusive,
                    label: "lease 'web' in lockspace 'space'")
            ])
        #expect {
            try LeasePlan.resources(
                disks: [], leases: [ExplicitLease(lockspace: "s", key: "../x", targetPath: "/l")], config: config)
        } throws: { "\($0)".contains("plain name") }
    }
}
