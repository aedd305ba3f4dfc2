import Testing
import VirtBase

@Suite struct VirtErrorTests {
    @Test func prefixesFollowLibvirt() {
        #expect(VirtError(.xmlError, .xml, "bad").description == "XML error: bad")
        #expect(VirtError(.operationInvalid, .domain, "domain is not running").description
            == "Requested operation is not valid: domain is not running")
        #expect(VirtError(.noName, .xml, "").description == "missing name information")
        #expect(VirtError(.xmlDetail, .xml, "(domain_definition):29: expected '>'").description
            == "(domain_definition):29: expected '>'")
    }
}
