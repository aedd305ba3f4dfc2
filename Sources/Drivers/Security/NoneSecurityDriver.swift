import VirtBase

/// The `none` driver: no labels, no relabelling (libvirt's nop driver). DAC and the seccomp filter stay on.
public struct NoneSecurityDriver: SecurityDriver {
    /// The nop driver.
    public init() {}

    public var model: String { "none" }

    public func generateLabel(
        for request: SecurityLabelRequest, excluding reserved: Set<MCSCategoryPair>
    ) throws(VirtError) -> DomainSecurityLabel {
        DomainSecurityLabel(
            model: model, doi: "", type: .none, relabel: false, label: nil, imageLabel: nil, enforcement: .notEnforced)
    }

    public func fileLabelPlan(for request: SecurityLabelRequest, label: DomainSecurityLabel) -> [FileLabelAction] { [] }
    public func labelFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) {}
    public func restoreFiles(for request: SecurityLabelRequest, label: DomainSecurityLabel) -> [VirtError] { [] }
    public func contribute(_ label: DomainSecurityLabel, to credentials: inout HypervisorCredentials) {}
}
