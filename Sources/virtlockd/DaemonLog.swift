import Glibc
import Locking
import Synchronization

/// virtlockd's log: libvirt-style levels (1 debug … 4 error) and outputs from virtlockd.conf.
final class DaemonLog: Sendable {
    /// Levels as libvirt numbers them.
    enum Level: Int, Sendable {
        case debug = 1, info, warning, error
        var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }
        var syslogPriority: Int32 {
            switch self {
            case .debug: LOG_DEBUG
            case .info: LOG_INFO
            case .warning: LOG_WARNING
            case .error: LOG_ERR
            }
        }
    }

    private struct Sink: Sendable {
        var level: Int
        var fd: Int32?
        var syslog: Bool
    }

    private let sinks: Mutex<[Sink]>

    /// Opens the outputs; `fallback` is used when the configuration names none.
    init(outputs: [VirtlockdConfig.LogOutput], level: Int, fallback: VirtlockdConfig.LogOutput.Destination) {
        var sinks: [Sink] = []
        let chosen = outputs.isEmpty ? [VirtlockdConfig.LogOutput(level: level, destination: fallback)] : outputs
        for output in chosen {
            let effective = max(output.level, outputs.isEmpty ? level : output.level)
            switch output.destination {
            case .stderr: sinks.append(Sink(level: effective, fd: 2, syslog: false))
            case .file(let path):
                let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                if fd >= 0 { sinks.append(Sink(level: effective, fd: fd, syslog: false)) }
            case .syslog(let ident):
                // openlog keeps the pointer: leak one copy for the life of the process.
                openlog(strdup(ident), LOG_PID, LOG_DAEMON)
                sinks.append(Sink(level: effective, fd: nil, syslog: true))
            }
        }
        self.sinks = Mutex(sinks)
    }

    func debug(_ message: String) { write(.debug, message) }
    func info(_ message: String) { write(.info, message) }
    func warning(_ message: String) { write(.warning, message) }
    func error(_ message: String) { write(.error, message) }

    func write(_ level: Level, _ message: String) {
        sinks.withLock { sinks in
            for sink in sinks where level.rawValue >= sink.level {
                if sink.syslog {
                    message.withCString { text in withVaList([text]) { vsyslog(level.syslogPriority, "%s", $0) } }
                } else if let fd = sink.fd {
                    let line = Array("\(Self.timestamp()): \(getpid()): \(level.name) : \(message)\n".utf8)
                    _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                }
            }
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))+0000"
    }
}
