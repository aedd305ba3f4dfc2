import CLibXML2
import Glibc

/// A read-only view of one element of an `XMLDocument`, with its element path for messages.
///
/// The path names each step by element name, with a 1-based `[n]` index where the parent holds more than one
/// element of that name: `/domain/devices/disk[2]/target`. Valid only while its document is alive.
struct XMLElement {
    let node: xmlNodePtr
    /// `/domain/devices/disk[1]/source`.
    let path: String

    /// The local element name (a namespace prefix, if any, is in `qualifiedName`).
    var name: String { Self.string(node.pointee.name) }

    /// `prefix:name` for an element in a prefixed namespace, else `name`.
    var qualifiedName: String {
        if let ns = node.pointee.ns, let prefix = ns.pointee.prefix { return Self.string(prefix) + ":" + name }
        return name
    }

    /// Whether the element belongs to an XML namespace.
    var hasNamespace: Bool { node.pointee.ns != nil }

    /// The line the element starts on.
    var line: Int { Int(xmlGetLineNo(node)) }

    /// The element's attributes in document order: (qualified name, value).
    var attributes: [(name: String, value: String)] {
        var result: [(String, String)] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            var attrName = Self.string(current.pointee.name)
            if let ns = current.pointee.ns, let prefix = ns.pointee.prefix {
                attrName = Self.string(prefix) + ":" + attrName
            }
            result.append((attrName, Self.value(of: current)))
            attribute = current.pointee.next
        }
        return result
    }

    /// The value of the un-namespaced attribute `name`, or nil.
    func attribute(_ name: String) -> String? {
        var attribute = node.pointee.properties
        while let current = attribute {
            if current.pointee.ns == nil, Self.equals(current.pointee.name, name) { return Self.value(of: current) }
            attribute = current.pointee.next
        }
        return nil
    }

    /// The child elements in document order, each with its path.
    var children: [XMLElement] {
        var nodes: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { nodes.append(current) }
            child = current.pointee.next
        }
        guard !nodes.isEmpty else { return [] }
        var totals: [String: Int] = [:]
        let names = nodes.map { Self.qualified($0) }
        for name in names { totals[name, default: 0] += 1 }
        var seen: [String: Int] = [:]
        var result: [XMLElement] = []
        result.reserveCapacity(nodes.count)
        for (index, current) in nodes.enumerated() {
            let name = names[index]
            var step = name
            if totals[name, default: 0] > 1 {
                seen[name, default: 0] += 1
                step += "[\(seen[name]!)]"
            }
            result.append(XMLElement(node: current, path: path + "/" + step))
        }
        return result
    }

    /// The concatenated text of the element's direct text children (entities already resolved by libxml2).
    var text: String {
        var result = ""
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE,
                let content = current.pointee.content
            {
                result += Self.string(content)
            }
            child = current.pointee.next
        }
        return result
    }

    /// The first non-blank text directly inside the element (text mixed among child elements), if any.
    var strayText: String? {
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE,
                let content = current.pointee.content
            {
                let text = Self.string(content)
                if !text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) { return text }
            }
            child = current.pointee.next
        }
        return nil
    }

    /// The element serialized on its own, with every namespace it uses declared on it, indented for
    /// `level` (two spaces per level) as libxml2's formatter does.
    func serialized(level: Int) -> String {
        guard let scratch = xmlNewDoc(Self.version) else { return "" }
        defer { xmlFreeDoc(scratch) }
        guard let copy = xmlDocCopyNode(node, scratch, 1) else { return "" }
        xmlDocSetRootElement(scratch, copy)
        xmlReconciliateNs(scratch, copy)
        guard let buffer = xmlBufferCreate() else { return "" }
        defer { xmlBufferFree(buffer) }
        _ = xmlNodeDump(buffer, scratch, copy, Int32(level), 1)
        guard let content = xmlBufferContent(buffer) else { return "" }
        return Self.string(content)
    }

    // MARK: libxml2 strings

    private static let version: [xmlChar] = Array("1.0".utf8) + [0]

    static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    private static func qualified(_ node: xmlNodePtr) -> String {
        let local = string(node.pointee.name)
        if let ns = node.pointee.ns, let prefix = ns.pointee.prefix { return string(prefix) + ":" + local }
        return local
    }

    private static func equals(_ pointer: UnsafePointer<xmlChar>?, _ name: String) -> Bool {
        guard let pointer else { return false }
        var index = 0
        for byte in name.utf8 {
            if pointer[index] != byte { return false }
            index += 1
        }
        return pointer[index] == 0
    }

    private static func value(of attribute: xmlAttrPtr) -> String {
        if let child = attribute.pointee.children, child.pointee.next == nil, child.pointee.type == XML_TEXT_NODE {
            return string(child.pointee.content)
        }
        guard let joined = xmlNodeListGetString(attribute.pointee.doc, attribute.pointee.children, 1) else {
            return ""
        }
        defer { free(joined) }  // libxml2's default allocator (xmlFree) is malloc/free
        return string(joined)
    }
}
