import Foundation
import Testing

@testable import VirtCore

/// libxml2 is used from many threads at once by the daemon-less CLI and the tests; parsing must not interfere.
@Suite("Domain XML concurrency")
struct DomainXMLConcurrencyTests {
    @Test("parallel parses with schema validation agree with a serial one")
    func parallel() async throws {
        let text = try FixtureSupport.read("xml2xml", "full.xml")
        let expected = DomainXML.format(try DomainXML.parse(text).definition)
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    var options = DomainXMLParseOptions()
                    options.validateSchema = true
                    return DomainXML.format(try DomainXML.parse(text, options: options).definition)
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outputs.count == 16)
        #expect(outputs.allSatisfy { $0 == expected })
    }
}
