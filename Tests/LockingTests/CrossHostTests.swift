import Glibc
import Locking
import Testing
import VirtBase
import VirtTestSupport

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

    @Test(.enabled(if: isRoot && access(unshare, X_OK) == 0, "needs root and unshare for mount + PID namespaces"))
    func hostAsDaemonDiesAndHostBWaitsForAToTakeTheLeaseBack() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = LockdConfig()
        config.fileLockspaceDir = dir.path + "/shared-lockspace"
        let disk = dir.file("a.img")
        let resources = try LeasePlan.resources(
            disks: [.init(path: disk, access: .writable)], leases: [], config: config)
        let web1 = LeaseOwner(uuid: "11111111-1111-1111-1111-111111111111", name: "web1", pid: getpid())
        let web2 = LeaseOwner(uuid: "22222222-2222-2222-2222-222222222222", name: "web2", pid: getpid())
        let hostA = TestDaemon(root: dir.path + "/a", config: "host_name = \"a\"\n", wrapper: Self.wrapper)
        let hostB = TestDaemon(
            root: dir.path + "/b", config: "host_name = \"b\"\nreclaim_timeout = 1\n", wrapper: Self.wrapper)
        defer { hostB.stop() }
        let impatientB = LeaseClient(paths: hostB.paths, daemonExecutable: nil, recoveryWaitMs: 0)

        let onA = try hostA.client.acquire(owner: web1, resources: resources)
        // Host A's daemon dies: the kernel drops its lock, but the lease file still names web1 on host a.
        hostA.process.signal(SIGKILL)
        hostA.process.wait()
        #expect(eventually { !onA.isAlive }, "the daemon dies with its namespace's first process")
        #expect {
            try impatientB.acquire(owner: web2, resources: resources)
        } throws: {
            "\($0)".hasPrefix(
                "resource busy: disk '\(disk)' was leased by domain 'web1' (uuid \(web1.uuid)) on host 'a'")
        }
        // Host A comes back and web1 takes its lease back: host B is refused, naming it.
        let hostA2 = TestDaemon(root: dir.path + "/a", config: "host_name = \"a\"\n", wrapper: Self.wrapper)
        defer { hostA2.stop() }
        let again = try onA.reestablish(using: hostA2.client)
        #expect {
            try impatientB.acquire(owner: web2, resources: resources)
        } throws: { "\($0)".hasSuffix("is leased by domain 'web1' (uuid \(web1.uuid)) on host 'a'") }

        // Host A's daemon dies again and web1 never comes back: once B's grace (1 s) has passed since it first
        // asked, B takes the lease over; a patient client simply waits for that.
        hostA2.process.signal(SIGKILL)
        hostA2.process.wait()
        #expect(eventually { !again.isAlive })
        let onB = try hostB.client.acquire(owner: web2, resources: resources)
        #expect(onB.leases.count == 1)
        #expect(try hostB.client.allLeases().map(\.owner.name) == ["web2"])
        again.close()
        onB.close()
    }
}
