import Testing

@testable import VirtCore

/// libvirt's scaled sizes: every suffix, decimal vs binary, rounding up to KiB, overflow.
@Suite("Memory units")
struct MemoryUnitTests {
    static let table: [(value: UInt64, unit: String?, kib: UInt64)] = [
        (1024, nil, 1024),
        (1, "b", 1), (1024, "b", 1), (1025, "bytes", 2), (2048, "byte", 2), (1, "B", 1),
        (1, "KB", 1), (1000, "KB", 977), (1024, "kb", 1000), (1, "KiB", 1), (1, "k", 1), (1, "K", 1), (7, "kib", 7),
        (1, "MB", 977), (1, "MiB", 1024), (1, "M", 1024), (2, "m", 2048), (3, "mib", 3072),
        (1, "GB", 976_563), (1, "GiB", 1_048_576), (1, "G", 1_048_576), (4, "gb", 3_906_250),
        (1, "TB", 976_562_500), (1, "TiB", 1_073_741_824), (1, "T", 1_073_741_824),
        (1, "PB", 976_562_500_000), (1, "PiB", 1_099_511_627_776), (1, "P", 1_099_511_627_776),
        (1, "EB", 976_562_500_000_000), (7, "EiB", 7 * 1_125_899_906_842_624), (0, "GiB", 0),
    ]

    @Test("scales like libvirt", arguments: table.indices)
    func scales(_ index: Int) throws {
        let row = Self.table[index]
        #expect(try MemoryUnit.kibibytes(row.value, unit: row.unit) == row.kib, "\(row.value) \(row.unit ?? "-")")
    }

    @Test("rejects unknown suffixes", arguments: ["parsecs", "KBB", "iB", "x", "Ki", "kibibytes", ""])
    func unknownSuffix(_ unit: String) {
        #expect(throws: VirtError.self) { try MemoryUnit.kibibytes(1, unit: unit) }
        do {
            _ = try MemoryUnit.kibibytes(1, unit: unit)
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.description.hasPrefix("invalid argument: unknown suffix '\(unit)'"))
        }
    }

    @Test(
        "overflow is 'value too large'",
        arguments: [(8, "EiB"), (9_300_000, "TB"), (UInt64.max, "b")] as [(UInt64, String)])
    func overflow(_ value: UInt64, _ unit: String) {
        do {
            _ = try MemoryUnit.kibibytes(value, unit: unit)
            Issue.record("\(value) \(unit) was accepted")
        } catch {
            #expect(error.code == .overflow)
            #expect(error.description.hasPrefix("value too large: "))
        }
    }

    @Test("the largest accepted size is 2^63-1 bytes, rounded up")
    func largest() throws {
        #expect(try MemoryUnit.kibibytes(UInt64(Int64.max), unit: "b") == 9_007_199_254_740_992)
    }

    @Test("element text and attributes use the same units")
    func inDocuments() throws {
        let text = """
            <domain type='test'><name>u</name><memory unit='G'>2</memory><currentMemory unit='MB'>1000</currentMemory>
            <os><type>hvm</type></os><cpu><numa><cell cpus='0' memory='2' unit='GiB'/></numa></cpu></domain>
            """
        let definition = try DomainXML.parse(text).definition
        #expect(definition.memoryKiB == 2_097_152)
        #expect(definition.currentMemoryKiB == 976_563)
        #expect(definition.cpu?.numaCells.first?.memoryKiB == 2_097_152)
    }
}
