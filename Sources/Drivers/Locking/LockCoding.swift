import VirtBase

/// The lock protocol's messages read from and written to JSON by hand (see JSONValue for why).
/// The member names are the wire names documented in docs/locking.md.
public protocol LockWireCodable {
    /// Reads the value at `path` (used in error messages) from `json`.
    init(json: JSONValue, at path: String) throws(LockWireError)
    /// Writes the value as one JSON value.
    func write(to writer: inout JSONWriter)
}

/// Typed member access with `malformed-frame` errors that name the member.
struct JSONObject {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, at path: String) throws(LockWireError) {
        guard case .object = value else { throw Self.wrong(path, "an object") }
        self.value = value
        self.path = path
    }

    static func wrong(_ path: String, _ expected: String) -> LockWireError {
        LockWireError(
            code: LockProtocol.ErrorCode.malformedFrame,
            message: "malformed frame: '\(path.isEmpty ? "(document)" : path)' must be \(expected)")
    }

    private func member(_ key: String) -> JSONValue? {
        guard let found = value[key] else { return nil }
        if case .null = found { return nil }
        return found
    }

    private func at(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func string(_ key: String) throws(LockWireError) -> String? {
        guard let found = member(key) else { return nil }
        guard case .string(let text) = found else { throw Self.wrong(at(key), "a string") }
        return text
    }

    func integer(_ key: String) throws(LockWireError) -> Int64? {
        guard let found = member(key) else { return nil }
        guard case .integer(let number) = found else { throw Self.wrong(at(key), "an integer") }
        return number
    }

    func int32(_ key: String) throws(LockWireError) -> Int32? {
        guard let number = try integer(key) else { return nil }
        guard let narrow = Int32(exactly: number) else { throw Self.wrong(at(key), "a 32-bit integer") }
        return narrow
    }

    func int(_ key: String) throws(LockWireError) -> Int? {
        try integer(key).map { Int($0) }
    }

    func bool(_ key: String) throws(LockWireError) -> Bool? {
        guard let found = member(key) else { return nil }
        guard case .bool(let flag) = found else { throw Self.wrong(at(key), "true or false") }
        return flag
    }

    func nested<T: LockWireCodable>(_ key: String, _ type: T.Type) throws(LockWireError) -> T? {
        guard let found = member(key) else { return nil }
        return try T(json: found, at: at(key))
    }

    func list<T: LockWireCodable>(_ key: String, _ type: T.Type) throws(LockWireError) -> [T]? {
        guard let found = member(key) else { return nil }
        guard case .array(let items) = found else { throw Self.wrong(at(key), "an array") }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() { result.append(try T(json: item, at: "\(at(key)).\(index)")) }
        return result
    }

    func required<T>(_ key: String, _ value: T?, _ expected: String) throws(LockWireError) -> T {
        guard let value else { throw Self.wrong(at(key), expected) }
        return value
    }

    func mode(_ key: String) throws(LockWireError) -> LeaseMode? {
        guard let text = try string(key) else { return nil }
        guard let mode = LeaseMode(rawValue: text) else { throw Self.wrong(at(key), "\"shared\" or \"exclusive\"") }
        return mode
    }
}

extension JSONWriter {
    mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        string(value)
    }

    mutating func member(_ key: String, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        integer(value)
    }

    mutating func member(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        bool(value)
    }

    mutating func member(_ key: String, _ value: (some LockWireCodable)?) {
        guard let value else { return }
        self.key(key)
        value.write(to: &self)
    }

    mutating func list(_ key: String, _ values: [some LockWireCodable]?) {
        guard let values else { return }
        self.key(key)
        beginArray()
        for value in values { value.write(to: &self) }
        endArray()
    }
}

extension LeaseOwner: LockWireCodable {
    /// Reads an owner.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        uuid = try object.required("uuid", object.string("uuid"), "a string")
        name = try object.required("name", object.string("name"), "a string")
        pid = try object.required("pid", object.int32("pid"), "an integer")
        host = try object.string("host")
    }

    /// Writes an owner.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writeMembers(to: &writer)
        writer.endObject()
    }

    /// The owner's members, for an object that says more (an indirect lease file adds the mode).
    func writeMembers(to writer: inout JSONWriter) {
        writer.member("uuid", uuid)
        writer.member("name", name)
        writer.member("pid", Int64(pid))
        writer.member("host", host)
    }
}

extension LockParams: LockWireCodable {
    /// Reads parameters.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            owner: try object.nested("owner", LeaseOwner.self), lockspace: try object.string("lockspace"),
            resource: try object.string("resource"), mode: try object.mode("mode"), label: try object.string("label"),
            all: try object.bool("all"), claims: try object.list("claims", LeaseResource.self))
    }

    /// Writes parameters (absent members omitted).
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("owner", owner)
        writer.member("lockspace", lockspace)
        writer.member("resource", resource)
        writer.member("mode", mode?.rawValue)
        writer.member("label", label)
        writer.member("all", all)
        writer.list("claims", claims)
        writer.endObject()
    }
}

extension LeaseResource: LockWireCodable {
    /// Reads a resource to claim.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            lockspace: try object.string("lockspace") ?? "",
            name: try object.required("resource", object.string("resource"), "a string"),
            mode: try object.mode("mode") ?? .exclusive, label: try object.string("label") ?? "")
    }

    /// Writes a resource to claim.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("lockspace", lockspace)
        writer.member("resource", name)
        writer.member("mode", mode.rawValue)
        writer.member("label", label)
        writer.endObject()
    }
}

extension LeaseClaimFailure: LockWireCodable {
    /// Reads a failed claim.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            lockspace: try object.required("lockspace", object.string("lockspace"), "a string"),
            resource: try object.required("resource", object.string("resource"), "a string"),
            error: try object.required("error", object.nested("error", LockWireError.self), "an object"))
    }

    /// Writes a failed claim.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("lockspace", lockspace)
        writer.member("resource", resource)
        writer.member("error", error)
        writer.endObject()
    }
}

extension LockRequest: LockWireCodable {
    /// Reads a request envelope; members that are missing stay nil (LockDispatch reports them).
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(id: 0, method: .status)
        version = try object.int("version")
        id = try object.int("id")
        method = try object.string("method")
        params = try object.nested("params", LockParams.self)
    }

    /// Writes a request envelope.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("version", version.map { Int64($0) })
        writer.member("id", id.map { Int64($0) })
        writer.member("method", method)
        writer.member("params", params)
        writer.endObject()
    }
}

extension LeaseRecord: LockWireCodable {
    /// Reads a lease.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        lockspace = try object.required("lockspace", object.string("lockspace"), "a string")
        resource = try object.required("resource", object.string("resource"), "a string")
        label = try object.required("label", object.string("label"), "a string")
        mode = try object.required("mode", object.mode("mode"), "\"shared\" or \"exclusive\"")
        owner = try object.required("owner", object.nested("owner", LeaseOwner.self), "an object")
    }

    /// Writes a lease.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("lockspace", lockspace)
        writer.member("resource", resource)
        writer.member("label", label)
        writer.member("mode", mode.rawValue)
        writer.member("owner", owner)
        writer.endObject()
    }
}

extension LockDaemonStatus: LockWireCodable {
    /// Reads a status.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            version: try object.required("version", object.int("version"), "an integer"),
            pid: try object.required("pid", object.int32("pid"), "an integer"),
            host: try object.required("host", object.string("host"), "a string"),
            clients: try object.required("clients", object.int("clients"), "an integer"),
            owners: try object.required("owners", object.int("owners"), "an integer"),
            leases: try object.required("leases", object.int("leases"), "an integer"),
            restarts: try object.required("restarts", object.int("restarts"), "an integer"),
            recovering: try object.int("recovering") ?? 0)
    }

    /// Writes a status.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("version", Int64(version))
        writer.member("pid", Int64(pid))
        writer.member("host", host)
        writer.member("clients", Int64(clients))
        writer.member("owners", Int64(owners))
        writer.member("leases", Int64(leases))
        writer.member("restarts", Int64(restarts))
        writer.member("recovering", Int64(recovering))
        writer.endObject()
    }
}

extension LockResult: LockWireCodable {
    /// Reads a result.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            owner: try object.nested("owner", LeaseOwner.self), lease: try object.nested("lease", LeaseRecord.self),
            leases: try object.list("leases", LeaseRecord.self),
            status: try object.nested("status", LockDaemonStatus.self),
            failures: try object.list("failures", LeaseClaimFailure.self))
    }

    /// Writes a result.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("owner", owner)
        writer.member("lease", lease)
        writer.list("leases", leases)
        writer.member("status", status)
        writer.list("failures", failures)
        writer.endObject()
    }
}

extension LockWireError: LockWireCodable {
    /// Reads an error object.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            code: try object.required("code", object.string("code"), "a string"),
            message: try object.required("message", object.string("message"), "a string"),
            holder: try object.nested("holder", LeaseOwner.self))
    }

    /// Writes an error object.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("code", code)
        writer.member("message", message)
        writer.member("holder", holder)
        writer.endObject()
    }
}

extension LockReply: LockWireCodable {
    /// Reads a reply envelope.
    public init(json: JSONValue, at path: String) throws(LockWireError) {
        let object = try JSONObject(json, at: path)
        self.init(
            id: try object.int("id"), result: try object.nested("result", LockResult.self),
            error: try object.nested("error", LockWireError.self))
    }

    /// Writes a reply envelope (`id` is written as null when unknown).
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        if let id { writer.integer(Int64(id)) } else { writer.null() }
        writer.member("result", result)
        writer.member("error", error)
        writer.endObject()
    }
}
