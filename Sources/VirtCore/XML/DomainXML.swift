import Foundation
import Synchronization

/// Options for reading a domain document.
public struct DomainXMLParseOptions: Sendable {
    /// Strict (default): an unknown element or attribute is an error naming file, line and element path.
    /// Lax (`define --lax`): libvirt's behaviour, unknown XML is dropped and listed in `dropped`.
    public var strict = true
    /// Also check the document against the project's RelaxNG schema (`define --validate`, `edit`).
    public var validateSchema = false
    /// The name used in error messages for the document (a file name, or `(domain_definition)`).
    public var sourceName = "(domain_definition)"
    /// The RelaxNG schema `validateSchema` uses; nil means `DomainXML.schemaPath()` (our `domain.rng`).
    public var schemaPath: String?
    /// A running domain's live XML as its driver stored it (libvirt's status parse): keep the generated
    /// `<label>` of dynamic labels and every `<imagelabel>`, which a definition drops as output-only.
    public var liveStatus = false
    public init() {}
}

/// A parsed, defaulted and validated definition, and what a lax parse dropped.
public struct DomainXMLParseResult: Sendable {
    public var definition: DomainDefinition
    /// One line per dropped element or attribute:
    /// `unknown element <bogus> at /domain/devices/disk[1]/bogus (demo.xml line 14)`.
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
    /// Include security-sensitive data (`dumpxml --security-info`). libvirt hides only graphics passwords
    /// without it, and no modelled element carries one, so both forms print the same today.
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
        try parse(bytes: Array(text.utf8), options: options)
    }

    /// Parses a document given as raw bytes (a file's contents). The bytes must be UTF-8: anything else is
    /// reported by libxml2 with the line it fails on.
    public static func parse(bytes: [UInt8], options: DomainXMLParseOptions = .init()) throws(VirtError)
        -> DomainXMLParseResult
    {
        let document = try XMLDocument.parse(bytes, sourceName: options.sourceName)
        if options.validateSchema {
            let path: String
            if let given = options.schemaPath { path = given } else { path = try schemaPath() }
            try RelaxNGSchema.load(path).validate(document)
        }
        guard let root = document.root else {
            throw VirtError(.xmlError, .xml, "\(options.sourceName) has no root element")
        }
        var parser = DomainXMLParser(strict: options.strict, sourceName: options.sourceName)
        parser.keepGeneratedLabels = options.liveStatus
        var definition = try parser.parseDomain(root)
        try DomainPostParse.apply(&definition, presence: parser.presence)
        try DomainValidator.validate(definition)
        return DomainXMLParseResult(definition: definition, dropped: parser.reader.dropped)
    }

    /// Canonical XML in libvirt's element order, two-space indented, ending with a newline.
    public static func format(_ definition: DomainDefinition, options: DomainXMLFormatOptions = .init()) -> String {
        var formatter = DomainXMLFormatter()
        formatter.domain(definition, id: options.id)
        return formatter.out
    }

    /// Checks `text` against a RelaxNG schema file (default: our `domain.rng`) without building a model;
    /// throws `XML document failed to validate against schema: ...` with libxml2's messages.
    public static func validateAgainstSchema(
        _ text: String, schemaPath path: String? = nil, sourceName: String = "(domain_definition)"
    ) throws(VirtError) {
        let document = try XMLDocument.parse(Array(text.utf8), sourceName: sourceName)
        let resolved: String
        if let path { resolved = path } else { resolved = try schemaPath() }
        try RelaxNGSchema.load(resolved).validate(document)
    }

    // MARK: Schemas

    /// Where the source tree's `xml-schemas/` is (fixed at build time).
    static let sourceTreeSchemas: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("xml-schemas").path
    }()

    /// The directories searched for schemas, in order: `$SWIFT_VIRT_SCHEMA_DIR`, the installed
    /// `<prefix>/share/swift-virt/schemas` beside the running executable, the source tree's `xml-schemas/`.
    public static var schemaSearchPath: [String] {
        var result: [String] = []
        if let env = ProcessInfo.processInfo.environment["SWIFT_VIRT_SCHEMA_DIR"], !env.isEmpty { result.append(env) }
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            let prefix = executable.deletingLastPathComponent().deletingLastPathComponent()
            result.append(prefix.appendingPathComponent("share/swift-virt/schemas").path)
        }
        result.append(sourceTreeSchemas)
        return result
    }

    /// The first directory of `schemaSearchPath` that holds `domain.rng`, or nil.
    public static var schemaDirectory: String? {
        schemaSearchPath.first { FileManager.default.fileExists(atPath: $0 + "/domain.rng") }
    }

    /// Resolved schema paths: the schema directory does not move while a process runs, and looking it up
    /// (environment, executable path, file system) would otherwise cost more than parsing a document.
    private static let resolvedSchemas = Mutex<[String: String]>([:])

    /// The path of schema file `name`; throws a message naming every place looked in.
    public static func schemaPath(_ name: String = "domain.rng") throws(VirtError) -> String {
        if let cached = resolvedSchemas.withLock({ $0[name] }) { return cached }
        let places = schemaSearchPath
        if let directory = places.first(where: { FileManager.default.fileExists(atPath: $0 + "/" + name) }) {
            let path = directory + "/" + name
            resolvedSchemas.withLock { $0[name] = path }
            return path
        }
        throw VirtError(
            .internalError, .xml,
            "cannot find the schema \(name) in \(places.joined(separator: ", ")); set SWIFT_VIRT_SCHEMA_DIR")
    }
}
