import Foundation

/// Options for reading a domain document.
public struct DomainXMLParseOptions: Sendable {
    /// Strict (default): an unknown element or attribute is an error naming file, line and element path.
    /// Lax (`define --lax`): libvirt's behaviour, unknown XML is dropped and listed in `dropped`.
    public var strict = true
    /// Also check the document against the project's RelaxNG schema (`define --validate`, `edit`).
    public var validateSchema = false
    /// The name used in error messages for the document (a file name, or `(domain_definition)`).
    public var sourceName = "(domain_definition)"
    public init() {}
}

/// A parsed, defaulted and validated definition, and what a lax parse dropped.
public struct DomainXMLParseResult: Sendable {
    public var definition: DomainDefinition
    /// One line per dropped element or attribute: `line 12: /domain/devices/disk/bogus`.
    public var dropped: [String]
    public init(definition: DomainDefinition, dropped: [String]) {
        self.definition = definition
        self.dropped = dropped
    }
}

/// Options for writing a domain document.
public struct DomainXMLFormatOptions: Sendable {
    /// The running domain's id (`<domain type='kvm' id='3'>`); nil for inactive XML.
    public var id: Int?
    /// Include security-sensitive data (`dumpxml --security-info`).
    public var securityInfo = false
    public init(id: Int? = nil, securityInfo: Bool = false) {
        self.id = id
        self.securityInfo = securityInfo
    }
}

/// Reading and writing libvirt domain XML: text → libxml2 → model → post-parse defaults → validation, and back.
public enum DomainXML {
    /// Parses, fills libvirt's defaults and validates a domain document. Every failure is a `VirtError`
    /// with libvirt's code (`XML error:`, `unsupported configuration:`, ...).
    public static func parse(_ text: String, options: DomainXMLParseOptions = .init()) throws -> DomainXMLParseResult {
        throw VirtError(.noSupport, .xml, "domain XML parsing is being written (placeholder until the XML work lands)")
    }

    /// Canonical XML in libvirt's element order, two-space indented, ending with a newline.
    public static func format(_ definition: DomainDefinition, options: DomainXMLFormatOptions = .init()) -> String {
        "<domain type='\(definition.type.rawValue)'>\n  <name>\(definition.name)</name>\n</domain>\n"
    }
}
