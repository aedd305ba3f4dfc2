import Foundation
import Testing

/// `--json`: one JSON document on stdout, camelCase keys, units in the key, no trailing blank line.
@Suite struct JSONOutputTests {
    func json(_ commandString: String) throws -> Any {
        let result = try ProcessRunner.virtsh(["-c", "test:///default", commandString])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty)
        #expect(!result.stdout.hasSuffix("\n\n"))
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test func list() throws {
        let document = try #require(try json("list --all --json") as? [String: Any])
        let domains = try #require(document["domains"] as? [[String: Any]])
        let test = try #require(domains.first { $0["name"] as? String == "test" })
        #expect(test["id"] as? Int == 1)
        #expect(test["uuid"] as? String == "6695eb01-f6a4-8304-79aa-97f2502e193f")
        #expect(test["state"] as? String == "running")
        #expect(test["persistent"] as? Bool == true)
        #expect(test["autostart"] as? Bool == false)
        #expect(test.keys.contains("title"))
    }

    @Test func inactiveDomainHasNullID() throws {
        let result = try ProcessRunner.virtsh(["-q", "-c", "test:///default", "destroy test; list --all --json"])
        #expect(result.status == 0, "\(result)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let domains = try #require(document["domains"] as? [[String: Any]])
        let test = try #require(domains.first { $0["name"] as? String == "test" })
        #expect(test["id"] is NSNull)
        #expect(test["state"] as? String == "shut off")
        #expect(test["reason"] as? String == "destroyed")
    }

    @Test func dominfo() throws {
        let info = try #require(try json("dominfo test --json") as? [String: Any])
        #expect(info["memoryKiB"] as? Int == 2_097_152)
        #expect(info["maxMemoryKiB"] as? Int == 8_388_608)
        #expect(info["vcpus"] as? Int == 2)
        #expect(info["cpuTimeNs"] is Int)
        #expect(info["osType"] as? String == "linux")
        #expect(info["state"] as? String == "running")
    }

    @Test func domstate() throws {
        let state = try #require(try json("domstate test --json") as? [String: String])
        #expect(state == ["state": "running", "reason": "unknown"])
    }

    @Test func domblklist() throws {
        let document = try #require(try json("domblklist test --json") as? [String: Any])
        let disks = try #require(document["disks"] as? [[String: Any]])
        #expect(disks.first?["target"] as? String == "vda")
        #expect(disks.first?["source"] as? String == "/guest/diskimage1")
        #expect(disks.first?["type"] as? String == "file")
        #expect(disks.first?["device"] as? String == "disk")
    }

    @Test func nodeinfo() throws {
        let node = try #require(try json("nodeinfo --json") as? [String: Any])
        #expect(node["cpus"] as? Int == 16)
        #expect(node["numaCells"] as? Int == 2)
        #expect(node["memoryKiB"] as? Int == 3_145_728)
        #expect(node["cpuFrequencyMHz"] as? Int == 1400)
    }

    @Test func hostQueries() throws {
        #expect(try json("uri --json") as? [String: String] == ["uri": "test:///default"])
        let host = try #require(try json("hostname --json") as? [String: String])
        #expect(host["hostname"]?.isEmpty == false)
        let version = try #require(try json("version --json") as? [String: String])
        #expect(version["hypervisor"]?.hasPrefix("TEST ") == true)
        let caps = try #require(try json("capabilities --json") as? [String: Any])
        #expect((caps["xml"] as? String)?.contains("<capabilities>") == true)
        #expect((caps["node"] as? [String: Any])?["cpus"] as? Int == 16)
    }

    @Test func keysAreSorted() throws {
        let result = try ProcessRunner.virtsh(["-c", "test:///default", "nodeinfo --json"])
        let keys = result.stdout.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("\"") else { return nil }
            return String(trimmed.dropFirst().prefix { $0 != "\"" })
        }
        #expect(keys == keys.sorted())
        #expect(keys.count == 8)
    }
}
