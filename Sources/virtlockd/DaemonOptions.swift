import Glibc
import Locking
import VirtBase

/// virtlockd's command line.
struct DaemonOptions: Sendable {
    /// What the invocation asks for.
    enum Mode: Sendable, Equatable {
        case serve
        case help
        case version
        /// Test and benchmark helper: take leases through LeaseClient and hold them until stdin closes.
        case clientHold
        /// Test helper: print the daemon's status.
        case clientStatus
    }

    var mode = Mode.serve
    var daemonize = false
    var verbose = false
    var paths: LockdPaths
    var configFile: String?
    var pidFile: String?
    /// `--timeout SECS`: exit after that long without clients (0 or absent: never), as libvirt's `-t`.
    var idleTimeout = 0
    /// --client-hold: the owner and disks.
    var ownerUUID = ""
    var ownerName = ""
    var disks: [DiskLeaseRequest] = []
    var startDaemon = true

    static let usage = """
        Usage: virtlockd [OPTIONS]
          -d, --daemon            run in the background (returns once the socket listens)
          -f, --config FILE       virtlockd.conf to read (default: CONFIG_DIR/virtlockd.conf)
          -p, --pid-file FILE     pid file (default: RUN_DIR/lockd/virtlockd.pid)
          -t, --timeout SECS      exit after SECS seconds without clients (started on demand: 30)
              --system            kvm:///system directories (/etc/swift-virt, /run/swift-virt)
              --session           kvm:///session directories (XDG)
              --root DIR          kvm:///embed?root=DIR directories (DIR/etc, DIR/run)
              --config-dir DIR    configuration directory
              --run-dir DIR       run directory (socket in RUN_DIR/lockd/virtlockd.sock)
          -v, --verbose           log at debug level to stderr
          -V, --version           print the version
          -h, --help              this text
        Signals: SIGTERM/SIGINT stop; SIGUSR1 re-executes the daemon keeping every lease.
        Test helpers: --client-hold --uuid U --name N [--disk PATH[:shareable|:readonly]]... [--no-start]
                      --client-status
        """

    /// Parses `arguments` (without argv[0]).
    static func parse(_ arguments: [String]) throws(VirtError) -> DaemonOptions {
        var options = DaemonOptions(
            paths: geteuid() == 0 ? .system : .session(environment: LockdPaths.processEnvironment()))
        var index = 0
        func value(_ flag: String) throws(VirtError) -> String {
            index += 1
            guard index < arguments.count else { throw VirtError(.usage, .locking, "option '\(flag)' needs a value") }
            return arguments[index]
        }
        var configDir: String?
        var runDir: String?
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-d", "--daemon": options.daemonize = true
            case "-f", "--config": options.configFile = try value(argument)
            case "-p", "--pid-file": options.pidFile = try value(argument)
            case "-t", "--timeout":
                let text = try value(argument)
                guard let seconds = Int(text), seconds >= 0, seconds <= 86_400 else {
                    throw VirtError(.usage, .locking, "--timeout needs a number of seconds (0-86400), not '\(text)'")
                }
                options.idleTimeout = seconds
            case "--system": options.paths = .system
            case "--session": options.paths = .session(environment: LockdPaths.processEnvironment())
            case "--root": options.paths = .embed(root: try value(argument))
            case "--config-dir": configDir = try value(argument)
            case "--run-dir": runDir = try value(argument)
            case "-v", "--verbose": options.verbose = true
            case "-V", "--version": options.mode = .version
            case "-h", "--help": options.mode = .help
            case "--client-hold": options.mode = .clientHold
            case "--client-status": options.mode = .clientStatus
            case "--uuid": options.ownerUUID = try value(argument)
            case "--name": options.ownerName = try value(argument)
            case "--no-start": options.startDaemon = false
            case "--disk":
                let spec = try value(argument)
                if spec.hasSuffix(":shareable") {
                    options.disks.append(DiskLeaseRequest(path: String(spec.dropLast(10)), access: .shareable))
                } else if spec.hasSuffix(":readonly") {
                    options.disks.append(DiskLeaseRequest(path: String(spec.dropLast(9)), access: .readOnly))
                } else {
                    options.disks.append(DiskLeaseRequest(path: spec, access: .writable))
                }
            default:
                throw VirtError(.usage, .locking, "unknown option '\(argument)' (see virtlockd --help)")
            }
            index += 1
        }
        if let configDir { options.paths.configDirectory = configDir }
        if let runDir { options.paths.runDirectory = runDir }
        return options
    }
}
