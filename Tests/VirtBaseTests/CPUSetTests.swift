import Testing
import VirtBase

@Suite struct CPUSetTests {
    @Test(arguments: [
        ("0-3,^2,8-11", "0-1,3,8-11"),
        ("0-15,^8", "0-7,9-15"),
        ("^8,0-15", "0-15"),
        ("5", "5"),
        ("1,2,3,7", "1-3,7"),
        (" 0 , 2 ", "0,2"),
    ])
    func parsesAndFormatsLikeLibvirt(input: String, canonical: String) throws {
        #expect(try CPUSet(parsing: input).description == canonical)
    }

    @Test(arguments: ["1-x", "", ",", "3-1", "1--2", "^", "a", "1,,2", "99999999", "-1"])
    func rejectsMalformedLists(input: String) {
        #expect(throws: VirtError.self) { try CPUSet(parsing: input) }
    }

    @Test func errorNamesTheListAsLibvirtDoes() {
        do {
            _ = try CPUSet(parsing: "1-x")
            Issue.record("accepted a malformed list")
        } catch {
            #expect(error.description.hasPrefix("invalid argument: Failed to parse bitmap '1-x'"))
        }
    }

    @Test func limitIsEnforced() {
        #expect(throws: VirtError.self) { try CPUSet(parsing: "0-4", limit: 4) }
        #expect((try? CPUSet(parsing: "0-3", limit: 4))?.count == 4)
    }

    @Test func setOperationsAndMap() throws {
        let a = try CPUSet(parsing: "0-3")
        let b = try CPUSet(parsing: "2-5")
        #expect(a.intersection(b).description == "2-3")
        #expect(a.union(b).description == "0-5")
        #expect(a.subtracting(b).description == "0-1")
        #expect(a.map(total: 6) == "yyyy--")
        #expect(CPUSet().description == "")
        #expect(CPUSet([2, 0]).isSubset(of: a))
    }
}
