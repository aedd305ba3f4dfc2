import Foundation
import KVM
import Testing

/// The hello guest: PVH hand-over, serial output, power-off through port 0x501.
@Suite("hello guest", .serialized)
struct HelloGuestTests {
    // Needs /dev/kvm and gcc -m32; skipped (and reported) where either is missing.
    @Test(.enabled(if: TestEnvironment.canRunGuests))
    func printsAndPowersOff() throws {
        let directory = TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (exit, output) = try GuestRunner.runOurs("hello", cmdline: "greeting=world", in: directory)
        #expect(exit == .poweroff(code: 0))
        #expect(output == "hello from a PVH guest\nstart info: ok\nmemory map: ram at 1M\ngreeting: world\nbye\n")
    }
}
