import CVirtShims
import Foundation
import Glibc
import Testing
import VirtBase

@testable import Security

/// Whether the tests run as root (real relabelling, trusted.* attributes, uid changes need it).
let runningAsRoot = getuid() == 0

/// Prints why a root-only test is skipped, once per use (the trait below only hides it otherwise).
func rootRequired(_ what: String) -> Bool {
    if !runningAsRoot { print("skipping '\(what)': needs root (trusted.* attributes, chown, setresuid)") }
    return runningAsRoot
}

/// A temporary directory on the same file system as /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/swift-virt-security-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: try #require(created))
    }

    /// Creates a file (with some content) and returns its path.
    func file(_ name: String, label: String? = nil, owner: (UInt32, UInt32) = (0, 0)) throws -> String {
        let full = path + "/" + name
        try Data("disk \(name)\n".utf8).write(to: URL(fileURLWithPath: full))
        if let label { try SystemSELinux().setFileLabel(full, label) }
        #expect(chown(full, owner.0, owner.1) == 0)
        return full
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The file's `security.selinux` attribute as the kernel stores it (nil: none).
func selinuxAttribute(_ path: String) throws -> String? {
    try ExtendedAttribute.get(path, "security.selinux")
}

/// The file's owner as `+uid:+gid`.
func owner(_ path: String) -> String {
    var info = stat()
    _ = stat(path, &info)
    return "+\(info.st_uid):+\(info.st_gid)"
}

/// Every `trusted.swift-virt.*` attribute name of a file.
func rememberedAttributes(_ path: String) -> [String] {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = listxattr(path, &buffer, buffer.count)
    guard count > 0 else { return [] }
    let names = buffer[0..<count].split(separator: 0).map {
        String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return names.filter { $0.hasPrefix("trusted.swift-virt.") }.sorted()
}

/// A libselinux seam whose host-wide answers are set by the test; file labels go to the real attributes.
struct FakeSELinux: SELinuxAPI {
    var isEnabled = true
    var enforcing = true
    var domainContext: String? = nil
    var imageContexts: (image: String, content: String)? = nil
    var ownContext: String? = nil
    var execLabelPath = "/proc/self/attr/exec"
    var defaultLabel: String? = nil

    var enforcement: LabelEnforcement { isEnabled ? (enforcing ? .enforcing : .permissive) : .notEnforced }
    func fileLabel(_ path: String) throws(VirtError) -> String? { try SystemSELinux().fileLabel(path) }
    func setFileLabel(_ path: String, _ label: String) throws(VirtError) {
        try SystemSELinux().setFileLabel(path, label)
    }
    func removeFileLabel(_ path: String) throws(VirtError) { try SystemSELinux().removeFileLabel(path) }
    func virtualDomainContext() -> String? { domainContext }
    func virtualImageContexts() -> (image: String, content: String)? { imageContexts }
    func currentContext() -> String? { ownContext }
    func defaultFileLabel(_ path: String, mode: UInt32) -> String? { defaultLabel }
}

/// A security manager with an explicit selinux driver over `api`, the caller's identity (no uid change) or `user`.
func makeManager(
    api: any SELinuxAPI = FakeSELinux(isEnabled: false), user: String? = nil, range: String? = nil,
    configure: (inout SecuritySettings) -> Void = { _ in }
) throws -> SecurityManager {
    var settings = SecuritySettings(defaultUser: user)
    settings.driver = "selinux"
    if let range { settings.mcsRange = try MCSCategoryRange(parsing: range) }
    configure(&settings)
    return try SecurityManager(settings: settings, selinux: api)
}

/// The directory of the running test executable, where SwiftPM also puts `virt-seccomp-probe`.
func probePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    try #require(count > 0)
    let exe = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]) + "/virt-seccomp-probe"
}

/// What a spawned probe printed and how it ended.
struct ProbeResult {
    var output: String
    var exitStatus: Int32?
    var signal: Int32?
}

/// Spawns the probe through `HypervisorLauncher` with `credentials`, collects stdout and waits for it.
func runProbe(_ arguments: [String], credentials: HypervisorCredentials = HypervisorCredentials()) throws -> ProbeResult
{
    let path = try probePath()
    try #require(access(path, X_OK) == 0, "virt-seccomp-probe is missing beside the test bundle at \(path)")
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    let pid: pid_t
    do {
        pid = try HypervisorLauncher.spawn(
            executable: path, arguments: [path] + arguments, environment: ["PATH=/usr/bin:/bin"],
            credentials: credentials, standard: .init(output: fds[1]))
    } catch {
        close(fds[0])
        close(fds[1])
        throw error
    }
    close(fds[1])
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        output += chunk[0..<count]
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
    return ProbeResult(
        output: String(decoding: output, as: UTF8.self), exitStatus: signaled ? nil : (status >> 8) & 0xff,
        signal: signaled ? status & 0x7f : nil)
}
