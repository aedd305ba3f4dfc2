import Glibc
import Locking
import Testing
import VirtBase

/// The lock table in-process. Every lease is an OFD lock on its own open file description, so two
/// tables in one process conflict exactly like two daemons on two hosts.
@Suite struct LockTableTests {
    let web1 = LeaseOwner(uuid: "11111111-1111-1111-1111-111111111111", name: "web1", pid: 100)
    let web2 = LeaseOwner(uuid: "22222222-2222-2222-2222-222222222222", name: "web2", pid: 200)

    @Test func secondExclusiveOwnerIsRefusedWithTheHolderNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        var table = LockTable(hostName: "a")
        table.connect(1)
        table.connect(2)
        _ = try table.register(1, web1)
        _ = try table.register(2, web2)
        let lease = try table.acquire(1, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        #expect(lease.owner.host == "a")
        #expect {
            try table.acquire(2, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        } throws: { error in
            let error = error as! LockWireError
            return error.code == LockProtocol.ErrorCode.resourceBusy
                && error.message == "disk '\(disk)' is leased by domain 'web1' (uuid \(web1.uuid)) on host 'a'"
                && error.holder?.name == "web1"
        }
        // Shared is refused as well while an exclusive lease exists.
        #expect(throws: LockWireError.self) {
            try table.acquire(2, key: LeaseKey(lockspace: "", resource: disk), mode: .shared, label: nil)
        }
        table.disconnect(1)
        #expect(table.leaseCount == 0)
        _ = try retrying {
            try table.acquire(2, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        }
        #expect(table.leaseCount == 1)
        table.disconnect(2)
    }

    @Test func sharedLeasesCoexistAndBlockExclusive() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("shared.img")
        var table = LockTable(hostName: "a")
        for (id, owner) in [(UInt64(1), web1), (2, web2)] {
            table.connect(id)
            _ = try table.register(id, owner)
            _ = try table.acquire(id, key: LeaseKey(lockspace: "", resource: disk), mode: .shared, label: nil)
        }
        #expect(try table.list(1, all: true).count == 2)
        table.connect(3)
        _ = try table.register(3, LeaseOwner(uuid: "3", name: "db", pid: 300))
        #expect(throws: LockWireError.self) {
            try table.acquire(3, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        }
        try table.release(1, key: LeaseKey(lockspace: "", resource: disk))
        table.disconnect(2)
        _ = try retrying {
            try table.acquire(3, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        }
        table.disconnect(3)
        table.disconnect(1)
    }

    @Test func indirectLeaseFilesNameAHolderOnAnotherHost() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let space = dir.path + "/lockspace"
        try Posix.makeDirectories(space, mode: 0o700)
        let key = LeaseKey(lockspace: space, resource: SHA256.hexDigest("/srv/a.img"))
        var hostA = LockTable(hostName: "a")
        var hostB = LockTable(hostName: "b")
        hostA.connect(1)
        hostB.connect(1)
        _ = try hostA.register(1, web1)
        _ = try hostB.register(1, web2)
        _ = try hostA.acquire(1, key: key, mode: .exclusive, label: "disk '/srv/a.img'")
        #expect {
            try hostB.acquire(1, key: key, mode: .exclusive, label: "disk '/srv/a.img'")
        } throws: {
            ($0 as! LockWireError).message
                == "disk '/srv/a.img' is leased by domain 'web1' (uuid \(web1.uuid)) on host 'a'"
        }
        hostA.disconnect(1)
        // The released file no longer names anyone, and host B gets it.
        #expect(Posix.readFile(key.path) == [])
        _ = try retrying { try hostB.acquire(1, key: key, mode: .exclusive, label: nil) }
        hostB.disconnect(1)
    }

    @Test func directLockspaceCannotNameAHolderElsewhere() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let disk = dir.file("a.img")
        var hostA = LockTable(hostName: "a")
        var hostB = LockTable(hostName: "b")
        hostA.connect(1)
        hostB.connect(1)
        _ = try hostA.register(1, web1)
        _ = try hostB.register(1, web2)
        _ = try hostA.acquire(1, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        #expect {
            try hostB.acquire(1, key: LeaseKey(lockspace: "", resource: disk), mode: .exclusive, label: nil)
        } throws: { ($0 as! LockWireError).message.contains("cannot be named") }
        // Nothing was written into the disk itself.
        #expect(Posix.readFile(disk)?.allSatisfy { $0 == 0 } == true)
        hostA.disconnect(1)
    }

    @Test func hostileRequestsAreRefusedAndChangeNothing() throws {
        var table = LockTable(hostName: "a")
        table.connect(1)
        #expect {
            try table.acquire(1, key: LeaseKey(lockspace: "", resource: "/etc/passwd"), mode: .shared, label: nil)
        } throws: { ($0 as! LockWireError).code == LockProtocol.ErrorCode.notRegistered }
        _ = try table.register(1, web1)
        for key in [
            LeaseKey(lockspace: "", resource: "relative.img"), LeaseKey(lockspace: "/tmp", resource: "../etc/x"),
            LeaseKey(lockspace: "relative", resource: "x"), LeaseKey(lockspace: "/tmp", resource: ".."),
        ] {
            #expect {
                try table.acquire(1, key: key, mode: .exclusive, label: nil)
            } throws: { ($0 as! LockWireError).code == LockProtocol.ErrorCode.invalidParams }
        }
        #expect {
            try table.acquire(
                1, key: LeaseKey(lockspace: "", resource: "/nonexistent/disk.img"), mode: .exclusive, label: nil)
        } throws: { ($0 as! LockWireError).message.contains("does not exist") }
        #expect {
            try table.register(1, LeaseOwner(uuid: "", name: "x", pid: 1))
        } throws: { ($0 as! LockWireError).message.contains("uuid") }
        #expect(table.leaseCount == 0)
    }
}
