import CLibXML2
import Foundation

/// Limits applied to every untrusted document before and while libxml2 reads it.
struct XMLReadLimits: Sendable {
    /// The largest document accepted, in bytes: virsh refuses XML files above 10 MiB (`VSH_MAX_XML_FILE`).
    var maxBytes = 10 * 1024 * 1024
    /// The deepest element nesting accepted; domain XML needs about eight levels.
    var maxDepth = 64
}

/// A parsed libxml2 document that owns its tree. Only the XML layer sees it; nothing here escapes VirtCore.
///
/// Reading is hardened for hostile input: no network (`XML_PARSE_NONET`), no entity substitution, no DTD
/// loading, and any `<!DOCTYPE>` stops the parser at once (so entity declarations such as a billion-laughs
/// document are never even read). Errors come through libxml2's structured error API.
final class XMLDocument {
    let pointer: xmlDocPtr
    /// The name used in messages (`demo.xml`, `(domain_definition)`).
    let sourceName: String

    private init(pointer: xmlDocPtr, sourceName: String) {
        self.pointer = pointer
        self.sourceName = sourceName
    }

    deinit { xmlFreeDoc(pointer) }

    /// The root element.
    var root: XMLElement? {
        guard let node = xmlDocGetRootElement(pointer) else { return nil }
        return XMLElement(node: node)
    }

    /// Reads `bytes` (UTF-8) into a tree, or throws a `VirtError` that names the source, line and cause.
    static func parse<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, sourceName: String, limits: XMLReadLimits = .init()
    ) throws(VirtError) -> XMLDocument {
        LibXML2.initialize()
        guard bytes.count <= limits.maxBytes else {
            throw VirtError(
                .xmlError, .xml,
                "\(sourceName) is \(bytes.count) bytes, larger than the \(limits.maxBytes)-byte (10 MiB) limit for XML documents"
            )
        }
        guard let context = xmlNewParserCtxt() else {
            throw VirtError(.internalError, .xml, "cannot allocate an XML parser context")
        }
        defer { xmlFreeParserCtxt(context) }
        let sink = ParseErrorSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        context.pointee._private = unmanaged.toOpaque()
        context.pointee.sax.pointee.serror = { userData, error in
            guard let userData, let error else { return }
            let ctxt = userData.assumingMemoryBound(to: xmlParserCtxt.self)
            guard let box = ctxt.pointee._private else { return }
            Unmanaged<ParseErrorSink>.fromOpaque(box).takeUnretainedValue().record(error.pointee)
        }
        context.pointee.sax.pointee.internalSubset = { userData, _, _, _ in
            guard let userData else { return }
            let ctxt = userData.assumingMemoryBound(to: xmlParserCtxt.self)
            if let box = ctxt.pointee._private {
                Unmanaged<ParseErrorSink>.fromOpaque(box).takeUnretainedValue().sawDoctype = true
            }
            xmlStopParser(ctxt)
        }
        let options = Int32(
            bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_BIG_LINES.rawValue
                | XML_PARSE_NOWARNING.rawValue)
        let document: xmlDocPtr? = withContiguousBytes(bytes) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), sourceName, "UTF-8", options)
            }
        }
        if sink.sawDoctype {
            if let document { xmlFreeDoc(document) }
            throw VirtError(
                .xmlError, .xml,
                "\(sourceName) has a <!DOCTYPE> declaration; DTDs and entity declarations are refused in domain XML "
                    + "(remove the DOCTYPE: domain XML never needs one)")
        }
        guard let document else { throw sink.error(sourceName: sourceName, source: bytes) }
        if context.pointee.wellFormed == 0 || sink.first != nil {
            xmlFreeDoc(document)
            throw sink.error(sourceName: sourceName, source: bytes)
        }
        let parsed = XMLDocument(pointer: document, sourceName: sourceName)
        try parsed.checkDepth(limit: limits.maxDepth)
        return parsed
    }

    /// Parses a document held in memory as a String.
    static func parse(_ text: String, sourceName: String, limits: XMLReadLimits = .init()) throws(VirtError)
        -> XMLDocument
    {
        try parse(Array(text.utf8), sourceName: sourceName, limits: limits)
    }

    /// Rejects documents nested deeper than `limit` elements, naming where the limit was passed.
    private func checkDepth(limit: Int) throws(VirtError) {
        guard let root = xmlDocGetRootElement(pointer) else { return }
        var stack: [(xmlNodePtr, Int)] = [(root, 1)]
        while let (node, depth) = stack.popLast() {
            if depth > limit {
                throw VirtError(
                    .xmlError, .xml,
                    "\(sourceName) nests elements more than \(limit) deep (at line \(xmlGetLineNo(node))); "
                        + "domain XML needs far fewer levels")
            }
            var child = node.pointee.children
            while let current = child {
                if current.pointee.type == XML_ELEMENT_NODE { stack.append((current, depth + 1)) }
                child = current.pointee.next
            }
        }
    }

    private static func withContiguousBytes<Bytes: Collection<UInt8>, R>(
        _ bytes: Bytes, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        if let result = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes(body)
    }
}

/// Collects libxml2's structured errors for one parse; reached through the parser context's `_private`.
private final class ParseErrorSink {
    struct Entry {
        var message: String
        var line: Int
        var column: Int
    }

    var sawDoctype = false
    private(set) var first: Entry?

    func record(_ error: xmlError) {
        let message = error.message.map { String(cString: $0) } ?? "unknown XML error"
        let entry = Entry(
            message: message.trimmingCharacters(in: .whitespacesAndNewlines), line: Int(error.line),
            column: Int(error.int2))
        if error.level != XML_ERR_WARNING, first == nil { first = entry }
    }

    /// libvirt's form: `name:LINE: message`, then the offending line and a caret under the column.
    func error<Bytes: Collection<UInt8>>(sourceName: String, source: Bytes) -> VirtError {
        guard let entry = first else {
            return VirtError(.xmlDetail, .xml, "\(sourceName): the document is not well-formed XML")
        }
        var text = "\(sourceName):\(entry.line): \(entry.message)"
        if let line = Self.line(entry.line, of: source) {
            let shown = String(decoding: line.prefix(Self.maxShownLine), as: UTF8.self)
            let caretColumn = max(0, min(entry.column - 1, shown.count))
            text += "\n\(shown)\n\(String(repeating: " ", count: caretColumn))^"
        }
        return VirtError(.xmlDetail, .xml, text)
    }

    /// How much of an offending line is echoed back.
    private static let maxShownLine = 80

    private static func line<Bytes: Collection<UInt8>>(_ number: Int, of source: Bytes) -> [UInt8]? {
        guard number >= 1 else { return nil }
        var current = 1
        var result: [UInt8] = []
        for byte in source {
            if byte == UInt8(ascii: "\n") {
                if current == number { break }
                current += 1
                continue
            }
            if current == number, byte != UInt8(ascii: "\r") { result.append(byte) }
            if current > number { break }
        }
        return current == number ? result : nil
    }
}

/// One-time libxml2 set-up.
enum LibXML2 {
    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// Initializes the library once per process (thread-safe through Swift's lazy globals).
    static func initialize() { _ = initialized }
}
