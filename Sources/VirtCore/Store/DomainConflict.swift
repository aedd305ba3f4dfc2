import Foundation

/// libvirt's rules and messages for a definition whose name or uuid is already taken
/// (`virDomainObjListAdd`), shared by every driver so that they all answer alike.
public enum DomainConflict {
    /// Same name, another uuid: `operation failed: domain 'x' already exists with uuid U`.
    public static func nameTaken(_ name: String, existingUUID: UUID) -> VirtError {
        VirtError(
            .operationFailed, .domain,
            "domain '\(name)' already exists with uuid \(existingUUID.uuidString.lowercased())")
    }

    /// Same uuid, another name: `operation failed: domain 'old' is already defined with uuid U`
    /// (libvirt names the domain that holds the uuid).
    public static func uuidTaken(existingName: String, uuid: UUID) -> VirtError {
        VirtError(
            .operationFailed, .domain,
            "domain '\(existingName)' is already defined with uuid \(uuid.uuidString.lowercased())")
    }

    /// Checks a new definition `(name, uuid)` against what exists: the domain holding the uuid (if any)
    /// and the one holding the name (if any). Returns normally when the definition may be stored
    /// (new, or a redefinition of the same name and uuid).
    public static func check(
        name: String, uuid: UUID, holderOfUUID: (name: String, uuid: UUID)?,
        holderOfName: (name: String, uuid: UUID)?
    ) throws {
        if let holder = holderOfUUID {
            if holder.name != name { throw uuidTaken(existingName: holder.name, uuid: uuid) }
            return
        }
        if let holder = holderOfName { throw nameTaken(name, existingUUID: holder.uuid) }
    }
}
