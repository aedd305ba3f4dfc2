// bench-store: fills a kvm:///embed store with N domains (default 1,000) and times listing them.
//
// Usage: bench-store [COUNT] [ROOT]   (ROOT defaults to a fresh temporary directory, removed afterwards)
// Prints the time to define the domains (one transaction each), to open the store and list every domain
// (what `virtsh list --all` does after process start-up), and to list on an open store.
//        bench-store --list ROOT      opens ROOT's store once, lists it and prints the count: time this
//                                     whole process to see the start-up cost around the store.
import Foundation
import VirtCore

/// Monotonic time in milliseconds.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
}

/// The median and 90th percentile of `samples`.
func summary(_ samples: [Double]) -> (median: Double, p90: Double) {
    let sorted = samples.sorted()
    return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 9 / 10)])
}

func format(_ value: Double) -> String { String(format: "%.2f", value) }

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--list" {
    do {
        let paths = try URIPaths.resolve(ConnectionURI(parsing: "kvm:///embed?root=\(arguments[2])"))
        print(try StateStore(path: paths.storePath).listSummaries().count)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("bench-store: \(error)\n".utf8))
        exit(1)
    }
}
let count = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
let iterations = 50
let temporary = arguments.count <= 2
let root =
    temporary
    ? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bench-store-\(getpid())").path
    : arguments[2]
defer { if temporary { try? FileManager.default.removeItem(atPath: root) } }

do {
    let paths = try URIPaths.resolve(ConnectionURI(parsing: "kvm:///embed?root=\(root)"))
    try paths.createDirectories()
    let store = try StateStore(path: paths.storePath)
    let existing = try store.listSummaries().count
    let defineStart = now()
    for index in existing..<count {
        var definition = DomainDefinition(type: .kvm, name: "bench-\(index)", memoryKiB: 524_288)
        definition.title = index % 10 == 0 ? "Benchmark guest \(index)" : nil
        definition.vcpu = VCPUConfig(count: 2)
        try store.define(
            name: definition.name, uuid: definition.uuid, xml: DomainXML.format(definition), title: definition.title)
    }
    let defineTime = now() - defineStart
    store.close()

    var openAndList: [Double] = []
    var listOnly: [Double] = []
    for _ in 0..<iterations {
        let start = now()
        let reopened = try StateStore(path: paths.storePath)
        let rows = try reopened.listSummaries()
        openAndList.append(now() - start)
        guard rows.count == count else { fatalError("listed \(rows.count) of \(count) domains") }
        let listStart = now()
        _ = try reopened.listSummaries()
        listOnly.append(now() - listStart)
        reopened.close()
    }
    let open = summary(openAndList)
    let list = summary(listOnly)
    print("store: \(paths.storePath) with \(count) domains")
    print("define \(count - existing) domains, one transaction each: \(format(defineTime)) ms")
    print("open store + list all (median of \(iterations)): \(format(open.median)) ms (p90 \(format(open.p90)) ms)")
    print("list all on an open store (median of \(iterations)): \(format(list.median)) ms (p90 \(format(list.p90)) ms)")
} catch {
    FileHandle.standardError.write(Data("bench-store: \(error)\n".utf8))
    exit(1)
}
