// virt-store-stress: one worker of the state store's concurrency test (Tests/VirtCoreTests/StoreConcurrencyTests).
//
// Usage: virt-store-stress DB WORKER COUNT
// Defines COUNT domains of its own, redefines the even ones, undefines the odd ones, races the other
// workers for the shared names, and takes domain ids. It prints what it did, one fact per line, so the
// test can check that nothing was lost: `ID n`, `SHARED k WON`, `SHARED k CLASH message`, `DONE`.
import Foundation
import VirtCore

/// How many names every worker races for.
let sharedNames = 10
/// How many ids every worker takes.
let idsPerWorker = 20

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("virt-store-stress: \(message)\n".utf8))
    exit(1)
}

/// A uuid that encodes worker and item, so the test can predict every row.
func uuid(worker: Int, item: Int, shared: Bool) -> UUID {
    let text = String(format: "%08x-0000-4000-8000-%012x", worker + (shared ? 0x1000 : 0), item)
    guard let value = UUID(uuidString: text) else { fail("bad uuid \(text)") }
    return value
}

func xml(_ name: String, _ uuid: UUID, version: Int) -> String {
    "<domain type='kvm'><name>\(name)</name><uuid>\(uuid.uuidString.lowercased())</uuid>"
        + "<description>v\(version)</description></domain>"
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let worker = Int(arguments[2]), let count = Int(arguments[3]) else {
    fail("usage: virt-store-stress DB WORKER COUNT")
}
do {
    let store = try StateStore(path: arguments[1])
    var output: [String] = []
    for item in 0..<count {
        let name = "w\(worker)-d\(item)"
        let id = uuid(worker: worker, item: item, shared: false)
        try store.define(name: name, uuid: id, xml: xml(name, id, version: 1))
        if item % 2 == 0 {
            try store.define(name: name, uuid: id, xml: xml(name, id, version: 2), title: "t\(item)")
        } else {
            try store.undefine(id)
        }
        if item < sharedNames {
            let sharedName = "shared-\(item)"
            let sharedID = uuid(worker: worker, item: item, shared: true)
            do {
                try store.define(name: sharedName, uuid: sharedID, xml: xml(sharedName, sharedID, version: 1))
                output.append("SHARED \(item) WON")
            } catch let error as VirtError where error.code == .operationFailed {
                output.append("SHARED \(item) CLASH \(error.description)")
            }
        }
        if item < idsPerWorker { output.append("ID \(try store.allocateDomainID())") }
    }
    output.append("DONE")
    print(output.joined(separator: "\n"))
} catch {
    fail("\(error)")
}
