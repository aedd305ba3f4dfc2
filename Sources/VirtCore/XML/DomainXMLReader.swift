import Foundation

/// The bookkeeping shared by every step of the model parser: strict or lax, what a lax parse dropped, and
/// messages that point at the element (path, source name, line).
struct DomainXMLReader {
    let strict: Bool
    let sourceName: String
    /// One line per element or attribute dropped by a lax parse.
    private(set) var dropped: [String] = []

    init(strict: Bool, sourceName: String) {
        self.strict = strict
        self.sourceName = sourceName
    }

    /// ` at /domain/devices/disk[1] (demo.xml line 14)`.
    func location(_ element: XMLElement) -> String {
        " at \(element.path) (\(sourceName) line \(element.line))"
    }

    /// An `XML error:` that points at `element`.
    func xmlError(_ message: String, _ element: XMLElement) -> VirtError {
        VirtError(.xmlError, .xml, message + location(element))
    }

    /// Reports something the model does not know: an error when strict, a `dropped` line when lax.
    mutating func reject(_ what: String, _ element: XMLElement, path: String? = nil) throws(VirtError) {
        let text = "\(what) at \(path ?? element.path) (\(sourceName) line \(element.line))"
        if strict {
            throw VirtError(
                .xmlError, .xml,
                text + "; remove it, or define with --lax to drop unknown XML as libvirt does")
        }
        dropped.append(text)
    }

    /// Checks `element`'s attributes against `allowed`; unknown ones are rejected (strict) or dropped (lax).
    mutating func checkAttributes(_ element: XMLElement, _ allowed: [String]) throws(VirtError) {
        for name in element.unknownAttributes(allowed) {
            try reject(
                "unknown attribute '\(name)' of <\(element.qualifiedName)>", element, path: element.path + "/@" + name)
        }
    }

    /// Rejects an element the model does not know.
    mutating func unknownElement(_ element: XMLElement) throws(VirtError) {
        try reject("unknown element <\(element.qualifiedName)>", element)
    }

    /// Rejects non-blank text inside an element that holds only elements.
    mutating func checkNoText(_ element: XMLElement) throws(VirtError) {
        guard let text = element.strayText else { return }
        let shown = text.trimmingSpaces
        try reject("unexpected text '\(shown.prefix(40))' in <\(element.qualifiedName)>", element)
    }

    /// Checks that an element meant to be empty (`<acpi/>`, `<readonly/>`) has no attributes, children or text.
    mutating func checkEmpty(_ element: XMLElement, attributes: [String] = []) throws(VirtError) {
        try checkAttributes(element, attributes)
        try checkNoText(element)
        for child in element.children { try unknownElement(child) }
    }

    /// Marks a second occurrence of a single-valued element: an error when strict, dropped when lax
    /// (libvirt reads only the first). Returns whether the element should be read.
    mutating func first(_ element: XMLElement, seen: inout [String]) throws(VirtError) -> Bool {
        let name = element.name
        if !seen.contains(name) {
            seen.append(name)
            return true
        }
        try reject("duplicate element <\(element.qualifiedName)> (only one is allowed here)", element)
        return false
    }

    // MARK: Values

    /// A required attribute.
    func required(_ element: XMLElement, _ name: String) throws(VirtError) -> String {
        guard let value = element.attribute(name) else {
            throw xmlError("missing required attribute '\(name)' of <\(element.name)>", element)
        }
        return value
    }

    /// An enumerated attribute value, with the allowed values in the message.
    func enumValue<E: RawRepresentable & CaseIterable>(
        _ type: E.Type, _ text: String, _ element: XMLElement, attribute: String
    ) throws(VirtError) -> E where E.RawValue == String {
        if let value = E(rawValue: text) { return value }
        let allowed = E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        throw xmlError(
            "invalid value '\(text)' for attribute '\(attribute)' of <\(element.name)>; expected one of \(allowed)",
            element)
    }

    /// An optional enumerated attribute.
    func optionalEnum<E: RawRepresentable & CaseIterable>(
        _ type: E.Type, _ element: XMLElement, _ attribute: String
    ) throws(VirtError) -> E? where E.RawValue == String {
        guard let text = element.attribute(attribute) else { return nil }
        return try enumValue(type, text, element, attribute: attribute)
    }

    /// A non-negative integer attribute (`vcpu='3'`), with libvirt's "Invalid value" wording.
    func integer(
        _ text: String, _ element: XMLElement, _ what: @autoclosure () -> String, max: Int = Int(Int32.max)
    ) throws(VirtError) -> Int {
        guard let value = Int(text) ?? Int(text.trimmingSpaces), value >= 0, value <= max else {
            throw xmlError(
                "Invalid value '\(text)' for \(what()): expected a whole number between 0 and \(max)", element)
        }
        return value
    }

    /// An optional integer attribute.
    func optionalInteger(_ element: XMLElement, _ attribute: String, max: Int = Int(Int32.max)) throws(VirtError)
        -> Int?
    {
        guard let text = element.attribute(attribute) else { return nil }
        return try integer(text, element, "attribute '\(attribute)' of <\(element.name)>", max: max)
    }

    /// A required integer attribute.
    func requiredInteger(_ element: XMLElement, _ attribute: String, max: Int = Int(Int32.max)) throws(VirtError)
        -> Int
    {
        try integer(required(element, attribute), element, "attribute '\(attribute)' of <\(element.name)>", max: max)
    }

    /// A cpuset/nodeset attribute in libvirt's list syntax.
    func cpuset(_ element: XMLElement, _ attribute: String) throws(VirtError) -> CPUSet? {
        guard let text = element.attribute(attribute) else { return nil }
        do {
            return try CPUSet(parsing: text)
        } catch {
            throw VirtError(
                error.code, .xml, error.message + " (attribute '\(attribute)' of <\(element.name)>\(location(element)))"
            )
        }
    }

    /// `yes`/`no`.
    func yesNo(_ element: XMLElement, _ attribute: String) throws(VirtError) -> YesNo? {
        try optionalEnum(YesNo.self, element, attribute)
    }

    /// `on`/`off`.
    func onOff(_ element: XMLElement, _ attribute: String) throws(VirtError) -> OnOff? {
        try optionalEnum(OnOff.self, element, attribute)
    }
}
