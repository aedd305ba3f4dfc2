import Foundation
import VirtCore

/// `domleases` and `leases`: the disk leases of a domain and of the host (virtsh additions: virsh has no
/// such commands; docs/virtsh.md and docs/locking.md).
enum LeaseCommands {
    /// `domleases`, in the Domain Monitoring group.
    static let domleases = CommandDefinition(
        name: "domleases", group: .monitor, summary: "list the disk leases of a domain (virtsh extension)",
        description:
            "Lists the leases the domain's supervisor holds through the lock daemon: what each protects, shared or "
            + "exclusive, and whether it is held, being taken back after a lock daemon restart, or lost.",
        options: [CommonOptions.domain(), CommonOptions.json], supportsJSON: true, isExtension: true,
        handler: LeaseCommands.domainLeases)

    /// `leases`, in the Host and Hypervisor group.
    static let leases = CommandDefinition(
        name: "leases", group: .host, summary: "list the disk leases of the host (virtsh extension)",
        description:
            "Lists every lease the connection's lock daemon holds, with the domain that holds it, and the leases "
            + "running domains lost.",
        options: [CommonOptions.json], supportsJSON: true, isExtension: true, handler: LeaseCommands.hostLeases)

    static func domainLeases(_ context: CommandContext) throws {
        let domain = try context.domain()
        let leases = try context.connection().domainLeases(domain.uuid)
        if context.json {
            try context.printJSON(LeaseListJSON(leases: leases.map(LeaseListJSON.Entry.init)))
            return
        }
        var table = TextTable("Type", "Resource", "Mode", "State", "Lock file")
        for lease in leases {
            table.add([lease.kind?.rawValue ?? "-", lease.name, lease.modeName, lease.state.rawValue, lease.lockFile])
        }
        context.print(table.render(quiet: context.quiet) + reasons(leases))
    }

    static func hostLeases(_ context: CommandContext) throws {
        let leases = try context.connection().hostLeases()
        if context.json {
            try context.printJSON(LeaseListJSON(leases: leases.map(LeaseListJSON.Entry.init)))
            return
        }
        var table = TextTable("Domain", "Type", "Resource", "Mode", "State", "Lock file")
        for lease in leases {
            table.add([
                lease.domain, lease.kind?.rawValue ?? "-", lease.name, lease.modeName, lease.state.rawValue,
                lease.lockFile,
            ])
        }
        context.print(table.render(quiet: context.quiet) + reasons(leases))
    }

    /// Why the lost leases were lost, one line each below the table.
    private static func reasons(_ leases: [DomainLeaseInfo]) -> String {
        leases.compactMap { lease in
            guard lease.state == .lost, let error = lease.error else { return nil }
            return "\(lease.domain): \(lease.kind?.rawValue ?? "lease") '\(lease.name)' lost: \(error)\n"
        }.joined()
    }
}
