import Foundation
import Testing

/// Locates the test fixtures and implements the golden-file regenerate switch (`VIRT_TEST_REGENERATE=1`).
enum FixtureSupport {
    /// `Tests/VirtCoreTests/Fixtures`.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    /// Whether golden files are being re-recorded.
    static var regenerating: Bool { ProcessInfo.processInfo.environment["VIRT_TEST_REGENERATE"] == "1" }

    /// The case names (file names without `.xml`) of the inputs in `directory`, sorted.
    static func cases(in directory: String) -> [String] {
        let url = root.appendingPathComponent(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".xml") && !$0.hasSuffix(".expected.xml") }
            .map { String($0.dropLast(4)) }.sorted()
    }

    static func read(_ directory: String, _ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(directory).appendingPathComponent(name), encoding: .utf8)
    }

    /// Compares `actual` with the golden file, or records it (and fails, so a recording run is never green).
    static func assertGolden(_ actual: String, _ directory: String, _ name: String) throws {
        let url = root.appendingPathComponent(directory).appendingPathComponent(name)
        if regenerating {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("regenerated \(directory)/\(name); rerun without VIRT_TEST_REGENERATE=1")
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(directory)/\(name); run with VIRT_TEST_REGENERATE=1 to record it")
            return
        }
        #expect(actual == expected, "\(directory)/\(name) differs from the formatted output")
    }
}
