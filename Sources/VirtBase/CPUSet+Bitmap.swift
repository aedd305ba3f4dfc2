extension CPUSet {
    /// Parses a list exactly as libvirt's `virBitmapParse` does, for the places where virsh's answer depends on
    /// it (`vcpupin`, `emulatorpin`, `numatune --nodeset`): spaces around numbers are skipped, a trailing comma is
    /// accepted, `^N` clears, every number must be below `size`. Any other text fails with libvirt's message
    /// `invalid argument: Failed to parse bitmap '…'` and no detail, as virsh prints it.
    public static func parsingBitmap(_ text: String, size: Int) throws(VirtError) -> CPUSet {
        let failure = VirtError(.invalidArgument, .domain, "Failed to parse bitmap '\(text)'")
        let bytes = Array(text.utf8)
        var index = 0
        func skipSpaces() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(bytes[index]) { index += 1 }
        }
        func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
        /// C's strtol in base 10 on the rest of the text, with libvirt's int range: nil when nothing was parsed
        /// or the value does not fit an `int`.
        func number() -> Int? {
            var at = index
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(bytes[at]) { at += 1 }
            var negative = false
            if at < bytes.count, bytes[at] == 0x2B || bytes[at] == 0x2D {
                negative = bytes[at] == 0x2D
                at += 1
            }
            guard isDigit(at) else { return nil }
            var value = 0
            while isDigit(at) {
                value = value * 10 + Int(bytes[at] - 0x30)
                if value > Int(Int32.max) + 1 { return nil }
                at += 1
            }
            if negative { value = -value }
            guard value >= Int(Int32.min), value <= Int(Int32.max) else { return nil }
            index = at
            return value
        }
        var set = CPUSet()
        skipSpaces()
        guard index < bytes.count else { throw failure }
        var negate = false
        while index < bytes.count {
            if bytes[index] == 0x5E {  // ^
                index += 1
                negate = true
            }
            guard isDigit(index), let start = number(), start >= 0 else { throw failure }
            skipSpaces()
            if index == bytes.count || bytes[index] == 0x2C {  // end or ,
                guard start < size else { throw failure }
                if negate { set.remove(start) } else { set.insert(start) }
            } else if bytes[index] == 0x2D {  // -
                if negate { throw failure }
                index += 1
                skipSpaces()
                guard let last = number(), last >= start else { throw failure }
                guard last < size else { throw failure }
                for member in start...last { set.insert(member) }
                skipSpaces()
            }
            if index < bytes.count && bytes[index] == 0x2C {
                index += 1
                skipSpaces()
                negate = false
            } else if index == bytes.count {
                break
            } else {
                throw failure
            }
        }
        return set
    }
}
