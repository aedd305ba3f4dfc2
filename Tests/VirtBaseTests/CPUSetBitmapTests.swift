import Testing
import VirtBase

/// `CPUSet.parsingBitmap`: libvirt's `virBitmapParse`, where virsh's answers depend on its exact leniencies.
@Suite struct CPUSetBitmapTests {
    @Test(arguments: [
        ("0", "0"), ("1-3,^2", "1,3"), (" 1", "1"), ("1,", "1"), (" 1 - 3 , 5 ", "1-3,5"), ("0-+3", "0-3"),
        ("^1,1", "1"), ("1,^1", ""), ("1023", "1023"), ("5-5", "5"),
    ])
    func accepted(_ text: String, _ expected: String) throws {
        #expect(try CPUSet.parsingBitmap(text, size: 1024).description == expected)
    }

    @Test(arguments: [
        "", " ", "x", "-1", "0-", "1024", "3-1", "^1-2", "1,,2", "1;2", "0x1", "1 2", "0-1024", "99999999999",
    ])
    func refused(_ text: String) {
        #expect {
            try CPUSet.parsingBitmap(text, size: 1024)
        } throws: { error in
            (error as? VirtError)?.description == "invalid argument: Failed to parse bitmap '\(text)'"
        }
    }
}
