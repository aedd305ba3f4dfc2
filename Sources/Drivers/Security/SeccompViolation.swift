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
    /// `dmesg_restrict = 0`). Records older than `notBeforeMicroseconds` (since boot: the process's start) belong to
    /// an earlier process with the same pid and are skipped. The kernel's audit thread prints the record shortly
    /// after the kill (and drops it when printk's rate limit is exhausted), so the log is read again for up to
    /// `waitMilliseconds`. Nil when the record cannot be found or read.
    public static func find(
        pid: Int32, notBeforeMicroseconds: UInt64 = 0, kmsg: String = "/dev/kmsg", waitMilliseconds: Int = 500
    ) -> SeccompViolation? {
        var waited = 0
        while true {
            guard let records = readRecords(kmsg) else { return nil }
            let recent = records.filter { $0.microseconds >= notBeforeMicroseconds }
            if let found = recent.reversed().lazy.compactMap({ parse($0.text, pid: pid) }).first { return found }
            if waited >= waitMilliseconds { return nil }
            usleep(20_000)
            waited += 20
        }
    }

    /// Every record `/dev/kmsg` still holds (one `read` returns one record): its time stamp (microseconds since
    /// boot, the third field of the `priority,sequence,microseconds,flags;` prefix) and its text.
    private static func readRecords(_ path: String) -> [(microseconds: UInt64, text: String)]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var records: [(microseconds: UInt64, text: String)] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                // EPIPE: a record was overwritten while reading; the next read continues with the next one.
                if errno == EINTR || errno == EPIPE { continue }
                break
            }
            if count == 0 { break }
            records.append(record(String(decoding: buffer[0..<count], as: UTF8.self)))
        }
        return records
    }
}

extension SeccompViolation {
    /// Splits one `/dev/kmsg` record into its time stamp and its first line of text.
    static func record(_ raw: String) -> (microseconds: UInt64, text: String) {
        guard let semicolon = raw.firstIndex(of: ";") else { return (0, String(raw.prefix { $0 != "\n" })) }
        let fields = raw[..<semicolon].split(separator: ",")
        let microseconds = fields.count > 2 ? UInt64(fields[2]) ?? 0 : 0
        return (microseconds, String(raw[raw.index(after: semicolon)...].prefix { $0 != "\n" }))
    }
}

extension SyscallTableX86_64 {
    /// Number to name.
    static let names: [UInt32: String] = Dictionary(numbers.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
}
