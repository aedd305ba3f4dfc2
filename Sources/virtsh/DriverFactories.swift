import KVMDriver
import TestDriver
import VirtCore

/// The drivers this `virtsh` links: `test:///` and `kvm:///`. The only place that names driver modules.
enum DriverFactories {
    static var all: [any DriverFactory] { [TestDriverFactory(), KVMDriverFactory()] }
}
