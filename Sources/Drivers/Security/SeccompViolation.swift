import Glibc

/// What the kernel logged when the seccomp filter killed a process: with `SECCOMP_RET_KILL_PROCESS` the kernel
/// writes an audit record (`type=1326 ... pid=N ... sig=31 ... syscall=NR ...`) to its log, since
/// `kill_process` is in `/proc/sys/kernel/seccomp/actions_logged` by default. The dead process's parent only
/// sees "killed by SIGSYS"; this record names the call.
public struct SeccompViolation: Sendable, Equatable, CustomStringConvertible {
    /// The process the filter killed.
    public var pid: Int32
    /// The system call number (x32 numbers keep their bit 30).
    public var number: UInt32
    /// The call's name on this architecture, when the table knows the number.
    public var name: String?

    /// A violation.
    public init(pid: Int32, number: UInt32, name: String?) {
        self.pid = pid
        self.number = number
        self.name = name
    }

    /// `system call 234 (tgkill)`.
    public var description: String {
        name.map { "system call \(number) (\($0))" } ?? "system call \(number)"
    }

    /// The name of system call `number` on x86_64, when known.
    public static func name(of number: UInt32) -> String? {
        SyscallTableX86_64.names[number]
    }

    /// Parses one kernel log record; nil unless it is a seccomp audit record for `pid`.
    public static func parse(_ record: String, pid: Int32) -> SeccompViolation? {
        guard record.contains("type=1326") else { return nil }
        var fields: [Substring: Substring] = [:]
        for word in record.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[word[..<equals]] = word[word.index(after: equals)...]
        }
        guard let recordPID = fields["pid"].flatMap({ Int32($0) }), recordPID == pid,
            let number = fields["syscall"].flatMap({ UInt32($0) })
        else { return nil }
        return SeccompViolation(pid: pid, number: number, name: name(of: number))
    }

    /// The kernel log's record of the seccomp kill of `pid`, read from `/dev/kmsg` (needs CAP_SYSLOG or
    /// `dmesg_restrict = 0`). The kernel's audit thread prints the record shortly after the kill, so the log is
    /// read again for up to `waitMilliseconds`. Nil when the record cannot be found or read.
    public static func find(pid: Int32, kmsg: String = "/dev/kmsg", waitMilliseconds: Int = 500) -> SeccompViolation? {
        var waited = 0
        while true {
            guard let records = readRecords(kmsg) else { return nil }
            if let found = records.reversed().lazy.compactMap({ parse($0, pid: pid) }).first { return found }
            if waited >= waitMilliseconds { return nil }
            usleep(20_000)
            waited += 20
        }
    }

    /// Every record `/dev/kmsg` still holds (one `read` returns one record), its text after the `;` prefix.
    private static func readRecords(_ path: String) -> [String]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var records: [String] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                // EPIPE: a record was overwritten while reading; the next read continues with the next one.
                if errno == EINTR || errno == EPIPE { continue }
                break
            }
            if count == 0 { break }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            let message = text.firstIndex(of: ";").map { text[text.index(after: $0)...] } ?? text[...]
            records.append(String(message.prefix { $0 != "\n" }))
        }
        return records
    }
}

extension SyscallTableX86_64 {
    /// Number to name.
    static let names: [UInt32: String] = Dictionary(numbers.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
}
