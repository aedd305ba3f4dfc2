import Foundation
import Testing

@testable import virtsh

/// `--json` of the tuning queries on `test:///default`: one document, camelCase keys, `null` where virsh prints
/// nothing or `N/A`.
@Suite struct TuningJSONTests {
    func json(_ commandString: String) throws -> [String: Any] {
        let result = try ProcessRunner.virtsh(["-q", "-c", "test:///default", commandString])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty)
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func vcpupin() throws {
        let document = try json("vcpupin test 1 2; vcpupin test --json")
        let vcpus = try #require(document["vcpus"] as? [[String: Any]])
        #expect(vcpus.count == 2)
        #expect(vcpus[0]["vcpu"] as? Int == 0 && vcpus[0]["cpuAffinity"] as? String == "0-7")
        #expect(vcpus[1]["vcpu"] as? Int == 1 && vcpus[1]["cpuAffinity"] as? String == "2")
        let one = try json("vcpupin test --vcpu 1 --json")
        #expect((one["vcpus"] as? [[String: Any]])?.count == 1)
    }

    @Test func emulatorpinAndNumatune() throws {
        #expect(try json("emulatorpin test 3-4; emulatorpin test --json")["cpuAffinity"] as? String == "3-4")
        let numa = try json("numatune test --json")
        #expect(numa["mode"] as? String == "strict" && numa["nodeset"] as? String == "")
        let set = try json("numatune test --mode interleave --nodeset 1; numatune test --json")
        #expect(set["mode"] as? String == "interleave" && set["nodeset"] as? String == "1")
    }

    @Test func schedinfo() throws {
        let document = try json("schedinfo test --json")
        #expect(document["scheduler"] as? String == "fair")
        #expect((document["parameters"] as? [String: Any])?["weight"] as? Int == 50)
    }

    @Test func schedulerFieldKeysCarryTheirUnit() {
        #expect(SchedulerInfoJSON.key("cpu_shares") == "cpuShares")
        #expect(SchedulerInfoJSON.key("vcpu_quota") == "vcpuQuotaUs")
        #expect(SchedulerInfoJSON.key("emulator_period") == "emulatorPeriodUs")
        #expect(SchedulerInfoJSON.key("weight") == "weight")
    }

    @Test func vcpuinfoRunningAndInactive() throws {
        let running = try #require(try json("vcpuinfo test --json")["vcpus"] as? [[String: Any]])
        #expect(running.count == 2)
        #expect(running[0]["cpu"] as? Int == 15 && running[0]["state"] as? String == "running")
        #expect((running[0]["cpuTimeNs"] as? Int ?? 0) > 0)
        #expect(running[1]["cpuAffinity"] as? String == "0-7")
        let inactive = try #require(try json("destroy test; vcpuinfo test --json")["vcpus"] as? [[String: Any]])
        #expect(inactive.count == 2)
        #expect(inactive[0]["cpu"] is NSNull && inactive[0]["state"] is NSNull && inactive[0]["cpuTimeNs"] is NSNull)
        #expect(inactive[0]["cpuAffinity"] as? String == "0-7")
    }

    @Test func vcpucount() throws {
        let running = try json("vcpucount test --json")
        #expect(
            ["maximumConfig", "maximumLive", "currentConfig", "currentLive"].allSatisfy { running[$0] as? Int == 2 })
        let inactive = try json("destroy test; vcpucount test --json")
        #expect(inactive["maximumConfig"] as? Int == 2 && inactive["maximumLive"] is NSNull)
        #expect(try json("vcpucount test --maximum --json")["count"] as? Int == 2)
    }
}
