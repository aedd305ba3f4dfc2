import Glibc
import Locking
import VirtBase

/// Client helpers for tests and benchmarks: a separate process that takes leases through the real
/// client library and holds them until its standard input closes (or it is killed).
enum TestClient {
    static func hold(_ options: DaemonOptions) -> Int32 {
        do {
            guard !options.ownerUUID.isEmpty, !options.ownerName.isEmpty else {
                throw VirtError(.usage, .locking, "--client-hold needs --uuid and --name")
            }
            let config = try LockdConfig.load(path: options.paths.lockdConfPath)
            let resources = try LeasePlan.resources(disks: options.disks, leases: [], config: config)
            let executable = options.startDaemon ? try Posix.canonicalPath("/proc/self/exe") : nil
            let client = LeaseClient(paths: options.paths, daemonExecutable: executable)
            let session = try client.acquire(
                owner: LeaseOwner(uuid: options.ownerUUID, name: options.ownerName, pid: getpid()), resources: resources
            )
            Console.out("held \(session.leases.count)")
            var byte: UInt8 = 0
            while read(0, &byte, 1) > 0 {}
            session.close()
            return 0
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }

    static func status(_ options: DaemonOptions) -> Int32 {
        do {
            let status = try LeaseClient(paths: options.paths, daemonExecutable: nil).status()
            Console.out(
                "pid \(status.pid) host \(status.host) clients \(status.clients) leases \(status.leases) restarts \(status.restarts)"
            )
            return 0
        } catch {
            Console.error("error: \(error)")
            return 1
        }
    }
}

/// Unbuffered writes to the standard streams (stdio's globals are not concurrency-safe in Swift 6).
enum Console {
    static func out(_ line: String) { write(1, line + "\n") }
    static func error(_ line: String) { write(2, line + "\n") }
    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
