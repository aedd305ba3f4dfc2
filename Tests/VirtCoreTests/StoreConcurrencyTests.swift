import Foundation
import Testing

@testable import VirtCore

/// Eight processes defining, redefining, undefining and racing for names on one database at once.
@Suite("State store under concurrent processes")
struct StoreConcurrencyTests {
    static let workers = 8
    static let perWorker = 60

    /// `virt-store-stress` is built beside the test bundle (`swift build --build-tests` builds every target).
    static func stressExecutable() -> String? {
        let candidates = [
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "",
            CommandLine.arguments.first ?? "",
        ]
        for candidate in candidates where !candidate.isEmpty {
            let path = URL(fileURLWithPath: candidate).deletingLastPathComponent().appendingPathComponent(
                "virt-store-stress"
            ).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    @Test("8 processes lose nothing and corrupt nothing")
    func eightProcesses() throws {
        let executable = try #require(
            Self.stressExecutable(),
            "virt-store-stress is not beside the test bundle; build with `swift build --build-tests`")
        let directory = try TemporaryDirectory("stress")
        defer { directory.remove() }
        let path = directory.path + "/swift-virt.db"

        var processes: [(Process, Pipe, Pipe)] = []
        for worker in 0..<Self.workers {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [path, String(worker), String(Self.perWorker)]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            processes.append((process, out, err))
        }
        var outputs: [[String]] = []
        for (process, out, err) in processes {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "worker failed: \(errors)")
            outputs.append(text.split(separator: "\n").map(String.init))
        }
        #expect(outputs.allSatisfy { $0.last == "DONE" })

        let store = try StateStore(path: path)
        defer { store.close() }
        #expect(try store.integrityCheck() == "ok")
        let names = Set(try store.listSummaries().map(\.name))
        for worker in 0..<Self.workers {
            for item in 0..<Self.perWorker {
                let name = "w\(worker)-d\(item)"
                if item % 2 == 0 {
                    #expect(names.contains(name), "lost \(name)")
                    let summary = try #require(try store.summary(.name(name)))
                    #expect(summary.title == "t\(item)")
                    #expect(try store.definitionXML(summary.uuid).contains("<description>v2</description>"))
                } else {
                    #expect(!names.contains(name), "undefined \(name) came back")
                }
            }
        }
        // Every shared name has exactly one winner, and the stored row is the winner's.
        let lines = outputs.flatMap { $0 }
        for item in 0..<10 {
            let winners = outputs.indices.filter { outputs[$0].contains("SHARED \(item) WON") }
            #expect(winners.count == 1, "shared-\(item) won by \(winners)")
            let stored = try #require(try store.summary(.name("shared-\(item)")))
            if let winner = winners.first {
                #expect(stored.uuid.uuidString.lowercased().hasPrefix(String(format: "%08x", winner + 0x1000)))
                let clash =
                    "operation failed: domain 'shared-\(item)' already exists with uuid \(stored.uuid.uuidString.lowercased())"
                #expect(lines.filter { $0 == "SHARED \(item) CLASH \(clash)" }.count == Self.workers - 1)
            }
        }
        #expect(names.count == Self.workers * Self.perWorker / 2 + 10)
        // Ids are unique across processes and cover 1...n with no gaps.
        let ids = lines.filter { $0.hasPrefix("ID ") }.compactMap { Int($0.dropFirst(3)) }
        #expect(ids.count == Self.workers * 20)
        #expect(ids.sorted() == Array(1...(Self.workers * 20)))
    }
}
