extension DomainDefinition {
    /// The definition without the values that only a running domain has (a pty's path, the nodes automatic
    /// placement chose), which libvirt ignores when a live XML is defined again.
    public func removingLiveValues() -> DomainDefinition {
        var copy = self
        if copy.numatune?.memory?.placement == .auto { copy.numatune?.memory?.nodeset = nil }
        for index in copy.devices.serials.indices where copy.devices.serials[index].type == .pty {
            copy.devices.serials[index].sourcePath = nil
        }
        for index in copy.devices.consoles.indices where copy.devices.consoles[index].type == .pty {
            copy.devices.consoles[index].sourcePath = nil
        }
        return copy
    }
}
