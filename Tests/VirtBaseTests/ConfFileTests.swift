import Testing
import VirtBase

@Suite struct ConfFileTests {
    let sample = """
        # Lock manager for kvm:// domains
        lock_manager = "lockd"   # trailing comment
        max_clients = 1024
        auto_disk_leases = 1
        hugetlbfs_mount = [ "/dev/hugepages2M",
                            "/dev/hugepages1G" ]
        escaped = "a \\"quoted\\" word"
        empty_list = []
        """

    @Test func readsLibvirtSyntax() throws {
        let conf = try ConfFile(parsing: sample, name: "kvm.conf")
        #expect(try conf.string("lock_manager") == "lockd")
        #expect(try conf.integer("max_clients") == 1024)
        #expect(try conf.boolean("auto_disk_leases") == true)
        #expect(try conf.stringList("hugetlbfs_mount") == ["/dev/hugepages2M", "/dev/hugepages1G"])
        #expect(try conf.string("escaped") == "a \"quoted\" word")
        #expect(try conf.stringList("empty_list") == [])
        #expect(try conf.string("absent") == nil)
        #expect(conf.entry("hugetlbfs_mount")?.line == 5)
    }

    @Test func schemaRejectsUnknownKeysAndWrongKinds() throws {
        let conf = try ConfFile(parsing: sample, name: "kvm.conf")
        let schema: [String: ConfFile.Kind] = [
            "lock_manager": .string, "max_clients": .integer, "auto_disk_leases": .boolean,
            "hugetlbfs_mount": .stringList, "escaped": .string, "empty_list": .stringList,
        ]
        try conf.validate(against: schema)
        var withoutOne = schema
        withoutOne["max_clients"] = nil
        #expect(throws: VirtError.self) { try conf.validate(against: withoutOne) }
        let wrong = try ConfFile(parsing: "lock_manager = 3\n", name: "kvm.conf")
        do {
            try wrong.validate(against: ["lock_manager": .string])
            Issue.record("a wrong kind was accepted")
        } catch {
            #expect(error.description == "unsupported configuration: kvm.conf:1: 'lock_manager' must be a string in double quotes, not the integer 3")
        }
    }

    @Test(arguments: [
        ("key \"v\"", 1), ("key = \"open", 1), ("a = 1\nkey = [\"a\" \"b\"]", 2), ("a = 1\n\nkey = @", 3),
        ("= 3", 1), ("key = 99999999999999999999", 1), ("key = 1 2", 1), ("key = [\"a\",", 1),
    ])
    func malformedFilesNameTheLine(text: String, line: Int) {
        do {
            _ = try ConfFile(parsing: text, name: "bad.conf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.hasPrefix("bad.conf:\(line): "), "\(error.message)")
        }
    }

    @Test func booleanMustBeZeroOrOne() throws {
        let conf = try ConfFile(parsing: "flag = 2\n", name: "x.conf")
        #expect(throws: VirtError.self) { try conf.boolean("flag") }
    }
}
