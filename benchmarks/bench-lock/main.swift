// bench-lock: whole-process benchmarks of virtlockd (docs/locking.md, "Performance").
//   1. acquire + release round trip from one client: p50 / p99
//   2. 16 concurrent clients: acquire + release pairs per second, all together
//   3. RSS of a daemon holding 10,000 leases
import Glibc
import Locking
import Synchronization
import VirtBase

struct Options {
    var virtlockd = ""
    var pairs = 20_000
    var clients = 16
    var seconds = 3
    var leases = 10_000
}

func fail(_ message: String) -> Never {
    let line = Array("bench-lock: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

func parseOptions() -> Options {
    var options = Options()
    let exe = (try? Posix.canonicalPath("/proc/self/exe")) ?? ""
    options.virtlockd = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/virtlockd"
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        guard let value = arguments.next() else { fail("option \(argument) needs a value") }
        switch argument {
        case "--virtlockd": options.virtlockd = value
        case "--pairs": options.pairs = Int(value) ?? options.pairs
        case "--clients": options.clients = Int(value) ?? options.clients
        case "--seconds": options.seconds = Int(value) ?? options.seconds
        case "--leases": options.leases = Int(value) ?? options.leases
        default: fail("unknown option \(argument) (--virtlockd PATH --pairs N --clients N --seconds N --leases N)")
        }
    }
    return options
}

/// Makes `count` empty disk files under `directory`.
func makeDisks(_ directory: String, _ count: Int) -> [String] {
    (0..<count).map { index in
        let path = "\(directory)/disk\(index).img"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fail("cannot create \(path)") }
        close(fd)
        return path
    }
}

func connect(_ paths: LockdPaths, name: String) -> LockConnection {
    do {
        let connection = LockConnection(
            fd: try UnixSocket.connect(path: paths.socketPath, timeoutMs: 5000, waitForListener: true))
        _ = try connection.call(
            .register, LockParams(owner: LeaseOwner(uuid: "bench-\(name)", name: name, pid: getpid())))
        return connection
    } catch {
        fail("cannot connect: \(error)")
    }
}

/// One acquire + release pair on `disk`; returns its duration in nanoseconds.
func pair(_ connection: LockConnection, _ disk: String) -> UInt64 {
    let start = Posix.monotonicNanoseconds()
    do {
        _ = try connection.call(.acquire, LockParams(lockspace: "", resource: disk, mode: .exclusive))
        _ = try connection.call(.release, LockParams(lockspace: "", resource: disk))
    } catch {
        fail("pair failed: \(error)")
    }
    return Posix.monotonicNanoseconds() - start
}

final class Worker: @unchecked Sendable {
    let paths: LockdPaths
    let disk: String
    let index: Int
    let stop: UnsafeMutablePointer<Atomic<Bool>>
    let pairs = Atomic<Int>(0)
    let done = Atomic<Bool>(false)

    init(paths: LockdPaths, disk: String, index: Int, stop: UnsafeMutablePointer<Atomic<Bool>>) {
        self.paths = paths
        self.disk = disk
        self.index = index
        self.stop = stop
    }

    func start() {
        var thread = pthread_t()
        _ = pthread_create(
            &thread, nil,
            { argument in
                let worker = Unmanaged<Worker>.fromOpaque(argument!).takeRetainedValue()
                let connection = connect(worker.paths, name: "worker\(worker.index)")
                var count = 0
                while !worker.stop.pointee.load(ordering: .relaxed) {
                    _ = pair(connection, worker.disk)
                    count += 1
                }
                worker.pairs.store(count, ordering: .relaxed)
                worker.done.store(true, ordering: .releasing)
                connection.close()
                return nil
            }, Unmanaged.passRetained(self).toOpaque())
        pthread_detach(thread)
    }
}

final class Echo: @unchecked Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
}

func pingPongFloor(rounds: Int) -> (p50: UInt64, p99: UInt64) {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { fail("socketpair") }
    var thread = pthread_t()
    _ = pthread_create(
        &thread, nil,
        { argument in
            let echo = Unmanaged<Echo>.fromOpaque(argument!).takeRetainedValue()
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let got = buffer.withUnsafeMutableBytes { read(echo.fd, $0.baseAddress, $0.count) }
                if got <= 0 { return nil }
                _ = buffer.withUnsafeBytes { write(echo.fd, $0.baseAddress, got) }
            }
        }, Unmanaged.passRetained(Echo(pair[1])).toOpaque())
    var message = [UInt8](repeating: 7, count: 100)
    var times: [UInt64] = []
    for _ in 0..<rounds {
        let start = Posix.monotonicNanoseconds()
        _ = message.withUnsafeBytes { write(pair[0], $0.baseAddress, $0.count) }
        _ = message.withUnsafeMutableBytes { read(pair[0], $0.baseAddress, $0.count) }
        times.append(Posix.monotonicNanoseconds() - start)
    }
    close(pair[0])
    pthread_join(thread, nil)
    close(pair[1])
    times.sort()
    return (times[times.count / 2], times[times.count * 99 / 100])
}

func rssKiB(_ pid: pid_t) -> Int {
    let text = String(decoding: Posix.readFile("/proc/\(pid)/status") ?? [], as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

let options = parseOptions()
var template = Array("/tmp/bench-lock.XXXXXX".utf8CString)
guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { fail("mkdtemp") }
let root = String(cString: made)
let paths = LockdPaths.embed(root: root)
try? Posix.makeDirectories(paths.configDirectory, mode: 0o755)
try? Posix.writeFileAtomically(paths.virtlockdConfPath, Array("log_level = 4\n".utf8), mode: 0o644)

var argv: [UnsafeMutablePointer<CChar>?] = [strdup(options.virtlockd), strdup("--root"), strdup(root), nil]
var daemon: pid_t = 0
guard posix_spawn(&daemon, options.virtlockd, nil, nil, &argv, environ) == 0 else {
    fail("cannot start \(options.virtlockd)")
}
defer {
    kill(daemon, SIGTERM)
    var status: Int32 = 0
    waitpid(daemon, &status, 0)
    _ = system("rm -rf '\(root)'")
}
let client = LeaseClient(paths: paths, daemonExecutable: nil)
for _ in 0..<500 where (try? client.status()) == nil { usleep(10_000) }
say("virtlockd pid \(daemon), \(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) CPUs")

// 0. The daemon's own share: lock table + JSON, in this process, no sockets.
do {
    var table = LockTable(hostName: "bench")
    table.connect(1)
    _ = try? table.register(1, LeaseOwner(uuid: "bench", name: "bench", pid: getpid()))
    let disk = makeDisks(root, 1)[0]
    let key = LeaseKey(lockspace: "", resource: disk)
    guard
        let request = try? LockWire.encode(
            LockRequest(id: 1, method: .acquire, params: LockParams(lockspace: "", resource: disk)))
    else { fail("cannot encode a request") }
    let rounds = 20_000
    var start = Posix.monotonicNanoseconds()
    for _ in 0..<rounds {
        _ = try? table.acquire(1, key: key, mode: .exclusive, label: nil)
        try? table.release(1, key: key)
    }
    let tableNs = (Posix.monotonicNanoseconds() - start) / UInt64(rounds)
    start = Posix.monotonicNanoseconds()
    for _ in 0..<rounds {
        guard case .call(let call) = LockDispatch.parse(Array(request[4...])) else { fail("parse") }
        _ = LockDispatch.frame(LockReply(id: call.id, result: LockResult()))
    }
    let codecNs = (Posix.monotonicNanoseconds() - start) / UInt64(rounds)
    say(
        "in-process: lock table acquire + release \(tableNs / 1000) µs; request parse + reply encode \(codecNs / 1000) µs"
    )
}

// The kernel's floor on this machine now: a 100-byte ping-pong over a Unix socket pair, echoed by a
// thread of this process. An acquire + release pair is two such round trips plus the work.
let floor = pingPongFloor(rounds: options.pairs)
say("floor: Unix socket ping-pong p50 \(floor.p50 / 1000) µs, p99 \(floor.p99 / 1000) µs")

// 1. Round trip from one client.
let single = connect(paths, name: "single")
let disks = makeDisks(root, max(options.clients, 1))
for _ in 0..<1000 { _ = pair(single, disks[0]) }  // warm-up
var samples = (0..<options.pairs).map { _ in pair(single, disks[0]) }
samples.sort()
let p50 = Double(samples[samples.count / 2]) / 1000
let p99 = Double(samples[samples.count * 99 / 100]) / 1000
single.close()
say(
    "round trip (acquire + release, one client, \(options.pairs) pairs): p50 \(Int(p50.rounded())) µs, p99 \(Int(p99.rounded())) µs  [goal ≤ 50 / ≤ 200]"
)

// 2. Concurrent clients.
let stop = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
stop.initialize(to: Atomic(false))
let workers = (0..<options.clients).map { Worker(paths: paths, disk: disks[$0], index: $0, stop: stop) }
for worker in workers { worker.start() }
usleep(UInt32(options.seconds) * 1_000_000)
stop.pointee.store(true, ordering: .relaxed)
for worker in workers { while !worker.done.load(ordering: .acquiring) { usleep(1000) } }
let total = workers.reduce(0) { $0 + $1.pairs.load(ordering: .relaxed) }
say("\(options.clients) concurrent clients: \(total / options.seconds) pairs/s  [goal ≥ 30000]")

// 3. RSS with many leases held (indirect lockspace: one lease file per disk path).
let lockspace = root + "/lockspace"
let holder = connect(paths, name: "holder")
do {
    _ = try holder.call(.addLockspace, LockParams(lockspace: lockspace))
    for index in 0..<options.leases {
        _ = try holder.call(
            .acquire,
            LockParams(
                lockspace: lockspace, resource: SHA256.hexDigest("/srv/images/vm\(index).img"), mode: .exclusive,
                label: "disk '/srv/images/vm\(index).img'"))
    }
} catch {
    fail("holding \(options.leases) leases: \(error)")
}
let held = (try? client.status().leases) ?? -1
let rss = rssKiB(daemon)
say("daemon holding \(held) leases: RSS \(rss / 1024) MiB (\(rss) KiB)  [goal ≤ 30 MiB]")
holder.close()
