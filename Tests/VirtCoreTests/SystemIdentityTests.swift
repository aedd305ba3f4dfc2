import Testing
import VirtCore

@Suite("System identity")
struct SystemIdentityTests {
    @Test(
        "the numeric kernel version virsh prints",
        arguments: [
            ("6.1.0-18-amd64", "6.1.0"), ("6.18.44-fc-v657", "6.18.44"), ("5.4", "5.4.0"), ("4.19.0+", "4.19.0"),
        ])
    func numericVersion(release: String, expected: String) {
        #expect(SystemIdentity.numericVersion(of: release) == expected)
    }
}
