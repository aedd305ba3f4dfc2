import VirtCore

/// Opens `kvm:///system`, `kvm:///session` and `kvm:///embed?root=DIR`: the embedded KVM driver over the
/// URI's SQLite store.
public struct KVMDriverFactory: DriverFactory {
    /// `kvm`.
    public let scheme = "kvm"

    public init() {}

    /// Resolves the URI's paths (a clear error for unknown paths and relative embed roots), creates its
    /// directories and opens its store.
    public func open(_ uri: ConnectionURI) throws -> any Driver {
        try KVMDriver(paths: URIPaths.resolve(uri))
    }
}
