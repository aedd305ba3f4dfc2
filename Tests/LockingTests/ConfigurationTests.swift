import Locking
import Testing
import VirtBase

@Suite struct ConfigurationTests {
    @Test func virtlockdConfReadsEverySetting() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write(
            "virtlockd.conf",
            """
            # lock daemon
            log_level = 2
            log_outputs = "3:stderr 1:file:/var/log/virtlockd.log 2:syslog:virtlockd"
            max_clients = 64
            host_name = "host-a"
            """)
        let config = try VirtlockdConfig.load(path: dir.path + "/virtlockd.conf")
        #expect(config.logLevel == 2)
        #expect(config.maxClients == 64)
        #expect(config.hostName == "host-a")
        #expect(
            config.logOutputs == [
                .init(level: 3, destination: .stderr), .init(level: 1, destination: .file("/var/log/virtlockd.log")),
                .init(level: 2, destination: .syslog("virtlockd")),
            ])
    }

    @Test func missingFilesMeanDefaults() throws {
        let config = try VirtlockdConfig.load(path: "/nonexistent/virtlockd.conf")
        #expect(config.maxClients == 1024)
        #expect(config.logLevel == 3)
        #expect(!config.hostName.isEmpty)
        let lockd = try LockdConfig.load(path: "/nonexistent/lockd.conf")
        #expect(lockd.autoDiskLeases && !lockd.requireLeaseForDisks && lockd.fileLockspaceDir == nil)
        #expect(try LockManagerKind.load(kvmConfPath: "/nonexistent/kvm.conf") == .lockd)
    }

    @Test func errorsNameFileAndLine() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("virtlockd.conf", "log_level = 3\nmax_clients = 0\n")
        #expect {
            try VirtlockdConfig.load(path: dir.path + "/virtlockd.conf")
        } throws: { "\($0)".contains(dir.path + "/virtlockd.conf:2:") && "\($0)".contains("max_clients") }
        dir.write("virtlockd.conf", "\n\nlog_outputs = \"3:journald\"\n")
        #expect {
            try VirtlockdConfig.load(path: dir.path + "/virtlockd.conf")
        } throws: { "\($0)".contains("virtlockd.conf:3:") && "\($0)".contains("journald") }
        dir.write("lockd.conf", "file_lockspace_dir = \"relative/dir\"\n")
        #expect {
            try LockdConfig.load(path: dir.path + "/lockd.conf")
        } throws: { "\($0)".contains("lockd.conf:1:") && "\($0)".contains("absolute") }
        dir.write("lockd.conf", "lvm_lockspace_dir = \"/x\"\n")
        #expect {
            try LockdConfig.load(path: dir.path + "/lockd.conf")
        } throws: { "\($0)".contains("unknown setting 'lvm_lockspace_dir'") }
        dir.write("kvm.conf", "lock_manager = \"sanlock\"\n")
        #expect {
            try LockManagerKind.load(kvmConfPath: dir.path + "/kvm.conf")
        } throws: { "\($0)".contains("kvm.conf:1:") && "\($0)".contains("\"lockd\" or \"nop\"") }
    }

    @Test func lockdConfDefaultsRequireLeaseFromAutoDiskLeases() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("lockd.conf", "auto_disk_leases = 0\nfile_lockspace_dir = \"/var/lib/swift-virt/lockd/files\"\n")
        let config = try LockdConfig.load(path: dir.path + "/lockd.conf")
        #expect(!config.autoDiskLeases && config.requireLeaseForDisks)
        #expect(config.fileLockspaceDir == "/var/lib/swift-virt/lockd/files")
        dir.write("kvm.conf", "lock_manager = \"nop\"\n")
        #expect(try LockManagerKind.load(kvmConfPath: dir.path + "/kvm.conf") == .nop)
    }

    @Test func pathsPerURIRoot() {
        #expect(LockdPaths.system.socketPath == "/run/swift-virt/lockd/virtlockd.sock")
        #expect(LockdPaths.system.virtlockdConfPath == "/etc/swift-virt/virtlockd.conf")
        #expect(LockdPaths.embed(root: "/srv/v").pidFilePath == "/srv/v/run/lockd/virtlockd.pid")
        #expect(LockdPaths.embed(root: "/srv/v").lockdConfPath == "/srv/v/etc/lockd.conf")
        let session = LockdPaths.session(environment: ["HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(session.configDirectory == "/home/u/.config/swift-virt")
        #expect(session.socketPath == "/run/user/1000/swift-virt/lockd/virtlockd.sock")
        let bare = LockdPaths.session(environment: ["HOME": "/home/u", "XDG_CONFIG_HOME": "/cfg"])
        #expect(bare.configDirectory == "/cfg/swift-virt")
        #expect(bare.runDirectory == "/home/u/.cache/swift-virt/run")
    }
}
