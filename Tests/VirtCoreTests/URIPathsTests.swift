import Foundation
import Testing
import VirtCore

@Suite("URI paths")
struct URIPathsTests {
    func resolve(_ uri: String, _ environment: [String: String] = [:], isRoot: Bool = false) throws -> URIPaths {
        try URIPaths.resolve(
            ConnectionURI(parsing: uri), environment: environment, isRoot: isRoot, homeDirectory: "/home/ann")
    }

    @Test("kvm:///system uses the system directories")
    func system() throws {
        let paths = try resolve("kvm:///system", isRoot: true)
        #expect(paths.kind == .system)
        #expect(paths.configDirectory == "/etc/swift-virt")
        #expect(paths.storePath == "/var/lib/swift-virt/swift-virt.db")
        #expect(paths.runDirectory == "/run/swift-virt")
        #expect(paths.logDirectory == "/var/log/swift-virt")
        #expect(paths.socketDirectory == "/run/swift-virt/s")
        #expect(paths.directoryMode == 0o755)
        #expect(paths.canonicalURI == "kvm:///system")
    }

    @Test("kvm:///session follows the XDG variables")
    func sessionXDG() throws {
        let paths = try resolve(
            "kvm:///session",
            ["XDG_CONFIG_HOME": "/x/config", "XDG_DATA_HOME": "/x/data/", "XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(paths.configDirectory == "/x/config/swift-virt")
        #expect(paths.storePath == "/x/data/swift-virt/swift-virt.db")
        #expect(paths.logDirectory == "/x/data/swift-virt/log")
        #expect(paths.runDirectory == "/run/user/1000/swift-virt")
        #expect(paths.socketDirectory == "/run/user/1000/swift-virt/s")
        #expect(paths.directoryMode == 0o700)
    }

    @Test("kvm:///session falls back to ~/.config, ~/.local/share and ~/.cache/swift-virt/run")
    func sessionFallbacks() throws {
        // Relative XDG values are ignored, as the XDG specification requires.
        let paths = try resolve("kvm:///session", ["XDG_CONFIG_HOME": "relative/config"])
        #expect(paths.configDirectory == "/home/ann/.config/swift-virt")
        #expect(paths.storePath == "/home/ann/.local/share/swift-virt/swift-virt.db")
        #expect(paths.logDirectory == "/home/ann/.local/share/swift-virt/log")
        #expect(paths.runDirectory == "/home/ann/.cache/swift-virt/run")
    }

    @Test("kvm:///embed?root=DIR keeps everything under DIR")
    func embed() throws {
        let paths = try resolve("kvm:///embed?root=/srv/vms/", ["XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(paths.kind == .embed(root: "/srv/vms"))
        #expect(paths.configDirectory == "/srv/vms/etc")
        #expect(paths.storePath == "/srv/vms/lib/swift-virt.db")
        #expect(paths.runDirectory == "/srv/vms/run")
        #expect(paths.logDirectory == "/srv/vms/log")
        #expect(paths.socketDirectory == "/run/user/1000/swift-virt/s")
        #expect(paths.directoryMode == 0o700)
        #expect(paths.canonicalURI == "kvm:///embed?root=/srv/vms")
        #expect(try resolve("kvm:///embed?root=/srv/vms", isRoot: true).socketDirectory == "/run/swift-virt/s")
    }

    @Test(
        "bad kvm URIs are clear errors",
        arguments: [
            (
                "kvm:///foo",
                "kvm:///foo: unknown path '/foo'; use kvm:///system, kvm:///session or kvm:///embed?root=/absolute/dir"
            ),
            ("kvm:///embed", "kvm:///embed: the embed URI needs a root directory: kvm:///embed?root=/absolute/dir"),
            (
                "kvm:///embed?root=vms",
                "kvm:///embed?root=vms: the embed root 'vms' must be an absolute path, like kvm:///embed?root=/srv/vms"
            ),
            ("kvm:///embed?root=/", "kvm:///embed?root=/: the embed root cannot be '/'; give a directory of its own"),
            ("kvm:///embed?root=/a/../b", "kvm:///embed?root=/a/../b: the embed root '/a/../b' must not contain '..'"),
            ("kvm:///embed?root=/a&x=1", "kvm:///embed?root=/a&x=1: unknown parameter 'x'; the only one is 'root'"),
            ("kvm:///system?root=/a", "kvm:///system?root=/a: unknown parameter 'root'"),
            (
                "kvm://host/system",
                "kvm://host/system: remote host 'host' is not supported; use kvm:///system, kvm:///session or kvm:///embed?root=/absolute/dir on the host itself"
            ),
        ])
    func badURIs(uri: String, message: String) throws {
        #expect(throws: VirtError(.invalidArgument, .connection, message)) { try resolve(uri) }
    }

    @Test("createDirectories makes private directories with the chosen mode")
    func createDirectories() throws {
        let directory = try TemporaryDirectory("paths")
        defer { directory.remove() }
        let paths = try resolve("kvm:///embed?root=\(directory.path)/tree")
        let oldMask = umask(0o022)
        defer { umask(oldMask) }
        try paths.createDirectories()
        for path in [
            directory.path + "/tree", paths.configDirectory, paths.storeDirectory, paths.runDirectory,
            paths.logDirectory,
        ] {
            var info = stat()
            #expect(stat(path, &info) == 0, "\(path) missing")
            #expect(info.st_mode & 0o777 == 0o700, "\(path) mode")
        }
        try paths.createDirectories()  // idempotent
    }

    @Test("a directory that cannot be created names the path and the cause")
    func createFailure() throws {
        let directory = try TemporaryDirectory("pathsfail")
        defer { directory.remove() }
        _ = FileManager.default.createFile(atPath: directory.path + "/file", contents: Data())
        do {
            try URIPaths.makeDirectory(directory.path + "/file/sub", mode: 0o700)
            Issue.record("mkdir under a file succeeded")
        } catch let error as VirtError {
            #expect(
                error.message
                    == "cannot create directory '\(directory.path)/file/sub': '\(directory.path)/file' exists and is not a directory"
            )
        }
    }
}
