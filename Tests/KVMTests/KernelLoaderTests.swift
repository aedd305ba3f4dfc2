import Foundation
import Testing
import VirtBase

@testable import KVM

/// Bad kernels and initrds give clear errors; the bzImage header is honoured.
@Suite("kernel loading")
struct KernelLoaderTests {
    static func file(_ bytes: [UInt8], in directory: URL, _ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func memory(_ mib: UInt64 = 16) throws -> GuestMemory {
        try GuestMemory(size: mib << 20, backing: MemoryBackingConfiguration(mergeable: false), name: "loader-test")
    }

    static func bzImage(
        version: UInt16 = 0x020f, xloadflags: UInt16 = 1, payload: Int = 4096, initSize: UInt32 = 0x10000
    ) -> [UInt8] {
        BzImageFixture.image(
            payload: [UInt8](repeating: 0xf4, count: payload), version: version, xloadflags: xloadflags,
            initSize: initSize)
    }

    func expectError(_ substring: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error mentioning '\(substring)'")
        } catch let error as VirtError {
            #expect(error.message.contains(substring), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func rejectsFilesThatAreNotKernels() throws {
        let dir = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = try Self.file(
            Array("#!/bin/sh\necho not a kernel\n".utf8) + [UInt8](repeating: 0, count: 2000), in: dir, "junk")
        let m = try Self.memory()
        expectError("neither an ELF image with a PVH note nor a bzImage") {
            _ = try KernelLoader.load(kernel: FileSource(path: junk), initrd: nil, cmdline: "", memory: m)
        }
        expectError("No such file") {
            _ = try KernelLoader.load(
                kernel: FileSource(path: dir.path + "/missing"), initrd: nil, cmdline: "", memory: m)
        }
    }

    @Test func bzImageChecksAndZeroPage() throws {
        let dir = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Self.memory()
        let old = try Self.file(Self.bzImage(version: 0x0206), in: dir, "old")
        expectError("version 2.12 or later") {
            _ = try KernelLoader.load(kernel: FileSource(path: old), initrd: nil, cmdline: "", memory: m)
        }
        let k32 = try Self.file(Self.bzImage(xloadflags: 0), in: dir, "k32")
        expectError("not a 64-bit bzImage") {
            _ = try KernelLoader.load(kernel: FileSource(path: k32), initrd: nil, cmdline: "", memory: m)
        }
        let huge = try Self.file(Self.bzImage(initSize: 64 << 20), in: dir, "huge")
        expectError("give the guest more memory") {
            _ = try KernelLoader.load(kernel: FileSource(path: huge), initrd: nil, cmdline: "", memory: m)
        }
        let good = try Self.file(Self.bzImage(), in: dir, "good")
        let initrd = try Self.file([UInt8](repeating: 7, count: 10000), in: dir, "initrd")
        let entry = try KernelLoader.load(
            kernel: FileSource(path: good), initrd: FileSource(path: initrd), cmdline: "console=ttyS0", memory: m)
        #expect(entry == BootEntry(mode: .linux64, instructionPointer: 0x100200, bootInfoAddress: 0x7000))
        #expect(m.load(UInt8.self, at: 0x7000 + 0x210) == 0xff, "type_of_loader")
        #expect(m.load(UInt32.self, at: 0x7000 + 0x228) == 0x20000, "cmd_line_ptr")
        let ramdisk = UInt64(m.load(UInt32.self, at: 0x7000 + 0x218)!)
        #expect(m.load(UInt32.self, at: 0x7000 + 0x21c) == 10000)
        #expect(ramdisk % 4096 == 0 && ramdisk + 10000 <= 16 << 20 && ramdisk >= 0x100000 + 0x10000)
        #expect(m.load(UInt8.self, at: ramdisk) == 7)
        #expect(m.load(UInt8.self, at: 0x7000 + 0x1e8) == 3, "e820 entries")
        #expect(m.load(UInt64.self, at: 0x9000) == 0xa003, "PML4[0] → PDPT")
        #expect(m.load(UInt64.self, at: 0xb000 + 8) == 0x200083, "2 MiB identity page")
        let text = (0..<13).map { m.load(UInt8.self, at: 0x20000 + UInt64($0))! }
        #expect(String(decoding: text, as: UTF8.self) == "console=ttyS0")
        let bigInitrd = try Self.file([UInt8](repeating: 1, count: 16 << 20), in: dir, "big-initrd")
        expectError("initrd") {
            _ = try KernelLoader.load(
                kernel: FileSource(path: good), initrd: FileSource(path: bigInitrd), cmdline: "", memory: m)
        }
    }

    // Needs gcc -m32 for a real PVH guest image.
    @Test(.enabled(if: GuestImages.unavailableReason == nil))
    func pvhKernelInitrdMustNotOverlap() throws {
        let dir = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Self.memory(2)
        let initrd = try Self.file([UInt8](repeating: 1, count: (1 << 20) - 4096), in: dir, "initrd")
        expectError("overlap the kernel") {
            _ = try KernelLoader.load(
                kernel: FileSource(path: GuestImages.path("hello")), initrd: FileSource(path: initrd), cmdline: "",
                memory: m)
        }
        let small = try Self.file([UInt8](repeating: 9, count: 4096), in: dir, "small")
        let entry = try KernelLoader.load(
            kernel: FileSource(path: GuestImages.path("hello")), initrd: FileSource(path: small), cmdline: "x=1",
            memory: m)
        #expect(entry.mode == .pvh32 && entry.bootInfoAddress == 0x6000)
        #expect(m.load(UInt32.self, at: 0x6000) == 0x336e_c578)
        #expect(m.load(UInt32.self, at: 0x600c) == 1, "one module: the initrd")
        let module = m.load(UInt64.self, at: 0x6040)!
        #expect(m.load(UInt8.self, at: module) == 9)
    }
}
