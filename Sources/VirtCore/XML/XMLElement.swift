import CLibXML2
import Glibc

/// A read-only view of one element of an `XMLDocument`, with its element path for messages.
///
/// The path names each step by element name, with a 1-based `[n]` index where the parent holds more than one
/// element of that name: `/domain/devices/disk[2]/target`. It is computed only when a message needs it (walking
/// up the tree), so reading a valid document never pays for it. Valid only while its document is alive.
struct XMLElement {
    let node: xmlNodePtr

    /// `/domain/devices/disk[1]/source`.
    var path: String {
        var steps: [String] = []
        var current: xmlNodePtr? = node
        while let element = current, element.pointee.type == XML_ELEMENT_NODE {
            steps.append(Self.step(element))
            current = element.pointee.parent
        }
        return "/" + steps.reversed().joined(separator: "/")
    }

    /// One path step: the qualified name, with `[n]` when the parent has several elements of that name.
    private static func step(_ element: xmlNodePtr) -> String {
        let name = qualified(element)
        guard let parent = element.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return name }
        var total = 0
        var index = 0
        var sibling = parent.pointee.children
        while let current = sibling {
            if current.pointee.type == XML_ELEMENT_NODE, qualified(current) == name {
                total += 1
                if current == element { index = total }
            }
            sibling = current.pointee.next
        }
        return total > 1 ? "\(name)[\(index)]" : name
    }

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

    /// The child elements in document order.
    var children: [XMLElement] {
        var result: [XMLElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(XMLElement(node: current)) }
            child = current.pointee.next
        }
        return result
    }

    /// Whether the element's name is `name` and it has no namespace.
    func isNamed(_ name: String) -> Bool { node.pointee.ns == nil && Self.equals(node.pointee.name, name) }

    /// The names (qualified) of attributes not in `allowed`; empty in the common case without allocating.
    func unknownAttributes(_ allowed: [String]) -> [String] {
        var unknown: [String] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            let known = current.pointee.ns == nil && allowed.contains { Self.equals(current.pointee.name, $0) }
            if !known {
                var attrName = Self.string(current.pointee.name)
                if let ns = current.pointee.ns, let prefix = ns.pointee.prefix {
                    attrName = Self.string(prefix) + ":" + attrName
                }
                unknown.append(attrName)
            }
            attribute = current.pointee.next
        }
        return unknown
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
                var index = 0
                while content[index] != 0 {
                    switch content[index] {
                    case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
                    default: return Self.string(content)
                    }
                }
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
