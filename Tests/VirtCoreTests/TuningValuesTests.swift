import Foundation
import Testing
import VirtBase

@testable import VirtCore

/// Typed parameters parsed as virsh does, and `numatune` changes applied to a definition as libvirt does.
@Suite struct TuningValuesTests {
    @Test func typedParametersParseLikeLibvirt() throws {
        let uint = TypedParameter("weight", .uint(0))
        #expect(try TypedParameter.parse("100", like: uint).value == .uint(100))
        #expect(try TypedParameter.parse("-1", like: uint).value == .uint(UInt32.max), "strtoul wraps -1")
        #expect(throws: VirtError.self) { try TypedParameter.parse("4294967296", like: uint) }
        #expect(throws: VirtError.self) { try TypedParameter.parse("-4294967296", like: uint) }
        #expect {
            try TypedParameter.parse("abc", like: uint)
        } throws: { error in
            (error as? VirtError)?.description
                == "invalid argument: Invalid value for field 'weight': expected unsigned int"
        }
        let llong = TypedParameter("vcpu_quota", .llong(0))
        #expect(try TypedParameter.parse("-1", like: llong).value == .llong(-1))
        #expect(try TypedParameter.parse("9223372036854775807", like: llong).value == .llong(.max))
        #expect(throws: VirtError.self) { try TypedParameter.parse("9223372036854775808", like: llong) }
        #expect(try TypedParameter.parse("-3", like: TypedParameter("p", .ullong(0))).value == .ullong(UInt64.max - 2))
        #expect(TypedParameter("b", .boolean(true)).text == "yes")
    }

    @Test func validationNamesTheField() {
        let allowed = [TypedParameter("cpu_shares", .ullong(0))]
        #expect {
            try TypedParameter.validate(
                [TypedParameter("cpu_shares", .ullong(1)), TypedParameter("cpu_shares", .ullong(2))], allowed: allowed)
        } throws: { error in
            (error as? VirtError)?.description == "invalid argument: parameter 'cpu_shares' occurs multiple times"
        }
        #expect {
            try TypedParameter.validate([TypedParameter("cpu_shares", .int(1))], allowed: allowed)
        } throws: { error in
            (error as? VirtError)?.description
                == "invalid argument: invalid type 'int' for parameter 'cpu_shares', expected 'ullong'"
        }
        #expect(throws: VirtError.self) {
            try TypedParameter.validate([TypedParameter("x", .int(1))], allowed: allowed)
        }
    }

    @Test func numatuneChangesFollowVirDomainNumatuneSet() throws {
        // A first change without a nodeset needs one when placement is static.
        #expect {
            try NUMATuneUpdate.apply(to: nil, mode: .interleave, nodeset: nil, placementStatic: true)
        } throws: { error in
            (error as? VirtError)?.description
                == "unsupported configuration: nodeset for NUMA memory tuning must be set if 'placement' is 'static'"
        }
        let first = try NUMATuneUpdate.apply(to: nil, mode: nil, nodeset: CPUSet([1]), placementStatic: true)
        #expect(first?.memory == NUMATune.Memory(mode: .strict, nodeset: CPUSet([1]), placement: .static))
        let second = try NUMATuneUpdate.apply(to: first, mode: .interleave, nodeset: nil, placementStatic: true)
        #expect(second?.memory?.mode == .interleave && second?.memory?.nodeset == CPUSet([1]))
        // Automatic placement when <vcpu placement='auto'> and no nodeset.
        let auto = try NUMATuneUpdate.apply(to: nil, mode: .strict, nodeset: nil, placementStatic: false)
        #expect(auto?.memory?.placement == .auto && auto?.memory?.nodeset == nil)
        #expect(try NUMATuneUpdate.apply(to: first, mode: nil, nodeset: nil, placementStatic: true) == first)
    }

    @Test func pinsReplaceEarlierOnes() {
        var definition = DomainDefinition(type: .kvm, name: "p", memoryKiB: 1024)
        definition.vcpu = VCPUConfig(count: 2, cpuset: CPUSet([0, 1]))
        #expect(definition.pinnedCPUs(ofVCPU: 1) == CPUSet([0, 1]))
        definition.setVCPUPin(1, CPUSet([1]))
        definition.setVCPUPin(0, CPUSet([0]))
        definition.setVCPUPin(1, CPUSet([0]))
        #expect(definition.cputune?.vcpupins.map(\.vcpu) == [0, 1])
        #expect(definition.pinnedCPUs(ofVCPU: 1) == CPUSet([0]))
        #expect(definition.pinnedEmulatorCPUs == CPUSet([0, 1]))
        definition.setEmulatorPin(CPUSet([1]))
        #expect(definition.pinnedEmulatorCPUs == CPUSet([1]))
    }
}
