import CLibXML2
import Foundation
import Synchronization

/// A compiled RelaxNG schema, loaded once per path and shared: compiling libvirt's domain schema costs far
/// more than validating a document against it.
final class RelaxNGSchema: @unchecked Sendable {
    // Unchecked: the compiled schema is immutable after loading, and every validation runs under `lock`.
    private let schema: xmlRelaxNGPtr
    /// The schema file, for messages.
    let path: String
    private let lock = Mutex(())

    private init(schema: xmlRelaxNGPtr, path: String) {
        self.schema = schema
        self.path = path
    }

    deinit { xmlRelaxNGFree(schema) }

    private static let cache = Mutex<[String: RelaxNGSchema]>([:])

    /// The compiled schema at `path`, from the cache or compiled now.
    static func load(_ path: String) throws(VirtError) -> RelaxNGSchema {
        if let cached = cache.withLock({ $0[path] }) { return cached }
        LibXML2.initialize()
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw VirtError(
                .internalError, .xml,
                "cannot read the RelaxNG schema '\(path)'; set SWIFT_VIRT_SCHEMA_DIR to the directory holding it")
        }
        guard let parser = xmlRelaxNGNewParserCtxt(path) else {
            throw VirtError(.internalError, .xml, "cannot create a RelaxNG parser for '\(path)'")
        }
        defer { xmlRelaxNGFreeParserCtxt(parser) }
        let sink = MessageSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        xmlRelaxNGSetParserStructuredErrors(parser, MessageSink.handler, unmanaged.toOpaque())
        guard let compiled = xmlRelaxNGParse(parser) else {
            throw VirtError(
                .internalError, .xml,
                "cannot compile the RelaxNG schema '\(path)':\n" + sink.lines.joined(separator: "\n"))
        }
        let schema = RelaxNGSchema(schema: compiled, path: path)
        return cache.withLock { entries in
            if let raced = entries[path] { return raced }
            entries[path] = schema
            return schema
        }
    }

    /// libxml2's validity messages for `document`, one per line (`demo.xml:4: element bogus: ...`);
    /// empty when the document is valid.
    func problems(in document: XMLDocument) -> [String] {
        lock.withLock { _ in
            guard let context = xmlRelaxNGNewValidCtxt(schema) else { return ["cannot create a RelaxNG validator"] }
            defer { xmlRelaxNGFreeValidCtxt(context) }
            let sink = MessageSink(sourceName: document.sourceName)
            let unmanaged = Unmanaged.passRetained(sink)
            defer { unmanaged.release() }
            xmlRelaxNGSetValidStructuredErrors(context, MessageSink.handler, unmanaged.toOpaque())
            let result = xmlRelaxNGValidateDoc(context, document.pointer)
            if result == 0 { return [] }
            return sink.lines.isEmpty ? ["the document does not match the schema"] : sink.lines
        }
    }

    /// Validates `document`, throwing libvirt's `XML document failed to validate against schema:` error.
    func validate(_ document: XMLDocument) throws(VirtError) {
        let problems = problems(in: document)
        guard !problems.isEmpty else { return }
        throw VirtError(
            .xmlInvalidSchema, .xml,
            "Unable to validate doc against \(path)\n" + problems.joined(separator: "\n"))
    }
}

/// Collects libxml2 structured errors as text lines.
private final class MessageSink {
    let sourceName: String?
    var lines: [String] = []

    init(sourceName: String? = nil) { self.sourceName = sourceName }

    static let handler: xmlStructuredErrorFunc = { userData, error in
        guard let userData, let error else { return }
        let sink = Unmanaged<MessageSink>.fromOpaque(userData).takeUnretainedValue()
        let message = (error.pointee.message.map { String(cString: $0) } ?? "unknown error")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var prefix = ""
        if let sourceName = sink.sourceName {
            prefix = "\(sourceName):\(error.pointee.line): "
            if let node = error.pointee.node?.assumingMemoryBound(to: xmlNode.self),
                node.pointee.type == XML_ELEMENT_NODE
            {
                prefix += "element \(XMLElement.string(node.pointee.name)): "
            }
        } else if let file = error.pointee.file {
            prefix = "\(String(cString: file)):\(error.pointee.line): "
        }
        sink.lines.append(prefix + message)
    }
}
