import Foundation
import Host

/// The fixture trees of make-fixtures.py, and scratch copies of them for tests that write.
enum Fixture: String, CaseIterable {
    case oneNode = "one-node"
    case twoNode = "two-node"
    case fourNode = "four-node"
    case eightNode = "eight-node"
    case noNUMA = "no-numa"

    /// The tree's directory in the source checkout.
    var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
            .appendingPathComponent(rawValue).path
    }

    /// The topology of the tree, with 4 KiB system pages.
    func topology() throws -> HostTopology {
        try HostTopology.read(root: root, systemPageSizeKiB: 4)
    }
}

/// A temporary copy of a fixture tree (or an empty tree), removed when the test ends.
final class ScratchTree {
    let root: String

    init(copying fixture: Fixture? = nil) throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("host-tests-\(UUID().uuidString)").path
        if let fixture {
            try FileManager.default.copyItem(atPath: fixture.root, toPath: root)
        } else {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` at the host path `path` inside the tree.
    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    /// Removes the host path `path` inside the tree.
    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: root + path)
    }

    /// The text at the host path `path` inside the tree.
    func read(_ path: String) throws -> String {
        try String(contentsOfFile: root + path, encoding: .utf8)
    }
}
