// virtlockd: the lease daemon (thin main over the Locking module; docs/locking.md).
import Glibc
import Locking
import VirtBase

let arguments = CommandLine.arguments
do {
    let options = try DaemonOptions.parse(Array(arguments.dropFirst()))
    switch options.mode {
    case .help: print(DaemonOptions.usage)
    case .version: print("virtlockd (swift-virt) protocol \(LockProtocol.version)")
    case .clientHold: exit(TestClient.hold(options))
    case .clientStatus: exit(TestClient.status(options))
    case .serve: exit(try Daemon.run(options, arguments: arguments))
    }
} catch {
    Console.error("virtlockd: error: \(error)")
    exit(1)
}
