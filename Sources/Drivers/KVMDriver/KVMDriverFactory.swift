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

    /// The domain's supervisor process, launched before its configuration exists (`DomainProcess.prelaunch`):
    /// its exec overlaps opening the store and finding the domain.
    public func prepareStart(_ uri: ConnectionURI) -> (any StartPreparation)? {
        try? DomainProcess.prelaunch()
    }
}

/// The kvm:// driver's start preparation: `cancel` gives the waiting supervisor an empty configuration.
extension PrelaunchedSupervisor: StartPreparation {}
