import Glibc
import Locking
import Testing
import VirtBase

/// Two "hosts": two daemons, each in its own mount and PID namespace, sharing one lockspace
/// directory (environment.md: no NFS here; fcntl locks conflict between them as between NFS clients).
@Suite struct CrossHostTests {
    static let unshare = "/usr/bin/unshare"
    static let wrapper = [unshare, "--mount", "--pid", "--fork", "--kill-child"]

    @Test(.enabled(if: isRoot && access(unshare, X_OK) == 0, "needs root and unshare for mount + PID namespaces"))
    func aDiskLeasedOnHostACannotBeLeasedOnHostBUntilReleased() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let lockspace = dir.path + "/shared-lockspace"
        let disk = dir.file("a.img")
        let hostA = TestDaemon(root: dir.path + "/a", config: "host_name = \"a\"\n", wrapper: Self.wrapper)
        defer { hostA.stop() }
        let hostB = TestDaemon(root: dir.path + "/b", config: "host_name = \"b\"\n", wrapper: Self.wrapper)
        defer { hostB.stop() }
        // Each daemon is pid 1 of its own PID namespace.
        #expect(try hostA.client.status().pid == 1)
        #expect(try hostB.client.status().pid == 1)

        var config = LockdConfig()
        config.fileLockspaceDir = lockspace
        let resources = try LeasePlan.resources(
            disks: [.init(path: disk, access: .writable)], leases: [], config: config)
        let web1 = LeaseOwner(uuid: "11111111-1111-1111-1111-111111111111", name: "web1", pid: getpid())
        let web2 = LeaseOwner(uuid: "22222222-2222-2222-2222-222222222222", name: "web2", pid: getpid())

        let onA = try hostA.client.acquire(owner: web1, resources: resources)
        #expect {
            try hostB.client.acquire(owner: web2, resources: resources)
        } throws: {
            "\($0)" == "resource busy: disk '\(disk)' is leased by domain 'web1' (uuid \(web1.uuid)) on host 'a'"
        }
        onA.close()
        let onB = try #require(
            {
                var session: LeaseSession?
                _ = eventually {
                    session = try? hostB.client.acquire(owner: web2, resources: resources)
                    return session != nil
                }
                return session
            }())
        #expect(try hostB.client.allLeases().map(\.owner.host) == ["b"])
        #expect {
            try hostA.client.acquire(owner: web1, resources: resources)
        } throws: { "\($0)".hasSuffix("is leased by domain 'web2' (uuid \(web2.uuid)) on host 'b'") }
        onB.close()
    }

    @Test(.enabled(if: isRoot && access(unshare, X_OK) == 0, "needs root and unshare for mount + PID namespaces"))
    func theDirectLockspaceProtectsAcrossHostsWithoutNamingTheHolder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        let hostA = TestDaemon(root: dir.path + "/a", config: "host_name = \"a\"\n", wrapper: Self.wrapper)
        defer { hostA.stop() }
        let hostB = TestDaemon(root: dir.path + "/b", config: "host_name = \"b\"\n", wrapper: Self.wrapper)
        defer { hostB.stop() }
        let resources = [LeaseResource(lockspace: "", name: disk, mode: .exclusive, label: "disk '\(disk)'")]
        let onA = try hostA.client.acquire(
            owner: LeaseOwner(uuid: "1", name: "web1", pid: getpid()), resources: resources)
        #expect {
            try hostB.client.acquire(owner: LeaseOwner(uuid: "2", name: "web2", pid: getpid()), resources: resources)
        } throws: { "\($0)".contains("cannot be named") }
        onA.close()
        #expect(
            eventually {
                (try? hostB.client.acquire(
                    owner: LeaseOwner(uuid: "2", name: "web2", pid: getpid()), resources: resources)) != nil
            })
    }
}
