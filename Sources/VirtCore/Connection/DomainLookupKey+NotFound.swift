extension DomainLookupKey {
    /// libvirt's lookup failure for this key: `Domain not found: no domain with matching name 'x'`.
    public var notFoundError: VirtError {
        switch self {
        case .name(let name): VirtError(.noDomain, .domain, "no domain with matching name '\(name)'")
        case .uuid(let uuid):
            VirtError(.noDomain, .domain, "no domain with matching uuid '\(uuid.uuidString.lowercased())'")
        case .id(let id): VirtError(.noDomain, .domain, "no domain with matching id \(id)")
        }
    }
}
