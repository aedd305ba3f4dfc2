import Foundation
import Glibc

/// A temporary directory for one test, removed when the value goes away.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("virtsh-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to `name` (mode 0755 when `executable`) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = url.appendingPathComponent(name)
        // O_CLOEXEC (Foundation's atomic write leaves its descriptor inheritable): a child that another test
        // spawns meanwhile must not keep the file open for writing, or running it fails with ETXTBSY.
        let fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0o755 : 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        // The mode given to open() passes through the process umask, which code under test elsewhere in this
        // process may narrow for a moment (0600 sockets); fchmod is not subject to it.
        guard fchmod(fd, executable ? 0o755 : 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return file.path
    }

    /// A domain both virsh's and virtsh's test drivers accept: one file disk, one block cdrom, a title.
    static let demoXML = """
        <domain type='test'>
          <name>demo</name>
          <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
          <title>Demo guest</title>
          <memory unit='MiB'>512</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
          <devices>
            <disk type='file' device='disk'><source file='/var/lib/demo.img'/><target dev='vda' bus='virtio'/></disk>
            <disk type='block' device='cdrom'><source dev='/dev/sr0'/><target dev='hdc' bus='ide'/><readonly/></disk>
          </devices>
        </domain>

        """
}
