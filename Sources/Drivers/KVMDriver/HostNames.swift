import Host

/// Host's `NodeInfo` under a name that does not clash with VirtCore's (or with Foundation's `Host` class,
/// which hides the module name in files that import Foundation).
typealias HostNodeInfo = NodeInfo
