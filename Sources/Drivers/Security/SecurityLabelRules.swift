import VirtBase

/// The `<seclabel>` rules every model shares (libvirt's schema and post-parse checks).
enum SecurityLabelRules {
    /// The label type of `spec`: explicit, else dynamic with a baselabel, else per `security_default_confined`.
    static func resolveType(
        _ spec: SecurityLabelSpec?, defaultConfined: Bool, requireConfined: Bool, domain: String
    ) throws(VirtError) -> SecurityLabelType {
        let type = spec?.type ?? (spec?.baseLabel != nil || defaultConfined ? .dynamic : .none)
        switch type {
        case .static:
            guard let label = spec?.label, !label.isEmpty else {
                throw VirtError(.xmlError, .security, "security label is missing")
            }
            guard spec?.baseLabel == nil else {
                throw VirtError(
                    .xmlError, .security, "domain '\(domain)': <baselabel> is only allowed with type='dynamic'")
            }
        case .dynamic:
            guard spec?.relabel != false else {
                throw VirtError(
                    .configUnsupported, .security,
                    "domain '\(domain)': dynamic label type must use resource relabeling (remove relabel='no')")
            }
        case .none:
            guard spec?.relabel != true else {
                throw VirtError(
                    .configUnsupported, .security, "resource relabeling is not compatible with 'none' label type")
            }
        }
        if type == .none && requireConfined {
            throw VirtError(
                .configUnsupported, .security,
                "Unconfined guests are not allowed on this host (domain '\(domain)'; security_require_confined = 1)")
        }
        return type
    }
}
