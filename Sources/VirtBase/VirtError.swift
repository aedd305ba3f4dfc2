/// The one error type of swift-virt: a code (what kind of failure), a domain (which subsystem), a message for
/// people, and the underlying `errno` where a system call failed.
///
/// `description` renders the error the way libvirt does, the code's prefix and then the message
/// (`XML error: target 'vda' duplicated ...`), which is what `virtsh` prints after `error: `.
public struct VirtError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure. Each code carries libvirt's message prefix, so `virtsh` prints what `virsh` prints.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// A bug or an unexpected state: `internal error: ...`.
        case internalError
        /// The driver does not implement the call: `this function is not supported by the connection driver: ...`.
        case noSupport
        /// No such domain: `Domain not found: ...`.
        case noDomain
        /// The document has no `<name>`: `missing name information`.
        case noName
        /// A caller-supplied value is wrong: `invalid argument: ...`.
        case invalidArgument
        /// The operation was tried and failed: `operation failed: ...`.
        case operationFailed
        /// The operation does not apply in the current state: `Requested operation is not valid: ...`.
        case operationInvalid
        /// The configuration asks for something not supported: `unsupported configuration: ...`.
        case configUnsupported
        /// The XML is well formed but wrong: `XML error: ...`.
        case xmlError
        /// The XML is not well formed; the message is libxml2's own detail, printed as is.
        case xmlDetail
        /// The XML does not satisfy the schema: `XML document failed to validate against schema: ...`.
        case xmlInvalidSchema
        /// A system call failed; the message already names the call, the object and strerror.
        case systemError
        /// Something is held by someone else: `resource busy: ...`.
        case resourceBusy
        /// A wait ran out: `Timed out during operation: ...`.
        case operationTimeout
        /// A number does not fit: `value too large: ...`.
        case overflow
        /// `<metadata>` has no element of that namespace: `metadata not found: ...`.
        case noDomainMetadata
        /// The operation is not supported in this build or on this host: `Operation not supported: ...`.
        case operationUnsupported
        /// The URI names no driver: `no connection driver available for ...`.
        case noConnect
        /// libvirt's `security model failure: ...`; the security drivers here report with the code of the step
        /// that failed.
        case securityFailure
        /// The connection is read-only: `operation forbidden: ...`.
        case operationDenied
        /// A command-line or wire argument is malformed (virsh's own option errors); printed as is.
        case usage

        /// libvirt's prefix for this code, including the trailing `": "` where one is printed.
        public var prefix: String {
            switch self {
            case .internalError: "internal error: "
            case .noSupport: "this function is not supported by the connection driver: "
            case .noDomain: "Domain not found: "
            case .noName: ""
            case .invalidArgument: "invalid argument: "
            case .operationFailed: "operation failed: "
            case .operationInvalid: "Requested operation is not valid: "
            case .configUnsupported: "unsupported configuration: "
            case .xmlError: "XML error: "
            case .xmlDetail: ""
            case .xmlInvalidSchema: "XML document failed to validate against schema: "
            case .systemError: ""
            case .resourceBusy: "resource busy: "
            case .operationTimeout: "Timed out during operation: "
            case .overflow: "value too large: "
            case .noDomainMetadata: "metadata not found: "
            case .operationUnsupported: "Operation not supported: "
            case .noConnect: "no connection driver available for "
            case .securityFailure: "security model failure: "
            case .operationDenied: "operation forbidden: "
            case .usage: ""
            }
        }
    }

    /// The subsystem that raised the error.
    public enum Domain: String, Sendable, Codable {
        case xml, domain, store, connection, test, kvm, host, security, locking, rpc, shell, config
    }

    public var code: Code
    public var domain: Domain
    /// The detail after libvirt's prefix: names the object, the cause and, where known, the remedy.
    public var message: String
    /// The `errno` of the failed system call, when there was one.
    public var errno: Int32?

    public init(_ code: Code, _ domain: Domain, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.domain = domain
        self.message = message
        self.errno = errno
    }

    /// The text `virtsh` prints after `error: `.
    public var description: String {
        if code == .noName && message.isEmpty { return "missing name information" }
        return code.prefix + message
    }
}

extension VirtError {
    /// `internal error: ...` shorthand.
    public static func `internal`(_ message: String, _ domain: Domain = .domain) -> VirtError {
        VirtError(.internalError, domain, message)
    }
}
