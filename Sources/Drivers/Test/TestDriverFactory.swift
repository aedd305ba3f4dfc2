import VirtCore

/// Opens `test:///default`: libvirt's in-memory test driver, a fresh state per connection.
public struct TestDriverFactory: DriverFactory {
    /// `test`.
    public let scheme = "test"

    public init() {}

    /// Opens `test:///default`; other paths (libvirt's custom `test:///path/to/config.xml`) are refused.
    public func open(_ uri: ConnectionURI) throws -> any Driver {
        guard uri.host.isEmpty else {
            throw VirtError(
                .invalidArgument, .test, "\(uri): the test driver runs in this process; use test:///default")
        }
        switch uri.path {
        case "/default":
            guard uri.query.isEmpty else {
                throw VirtError(.invalidArgument, .test, "\(uri): test:///default takes no parameters")
            }
            return TestDriver()
        case "", "/":
            throw VirtError(.invalidArgument, .test, "testOpen: supply a path or use test:///default")
        default:
            throw VirtError(
                .noSupport, .test,
                "\(uri): custom test driver configuration files are not supported; use test:///default")
        }
    }
}
