import CVirtShims
import Glibc
import VirtBase

/// Pins threads to host CPUs (`sched_setaffinity(2)` per kernel thread id) and reads the result back, both from
/// the kernel call and from `Cpus_allowed_list` in `/proc/PID/task/TID/status`, which is what tests and
/// `vcpuinfo` show.
public enum ThreadAffinity {
    /// The calling thread's kernel thread id (`gettid(2)`).
    public static func currentThreadID() -> Int32 {
        cvirt_gettid()
    }

    /// Restricts thread `tid` (0: the calling thread) to `cpus`.
    public static func set(_ cpus: CPUSet, thread tid: Int32 = 0) throws(VirtError) {
        guard !cpus.isEmpty else {
            throw VirtError(.invalidArgument, .host, "cannot set CPU affinity of thread \(tid) to an empty CPU set")
        }
        let members = cpus.members.map(Int32.init)
        let rc = members.withUnsafeBufferPointer { cvirt_sched_setaffinity(tid, $0.baseAddress, Int32($0.count)) }
        guard rc == 0 else {
            let code = -rc
            var message = "cannot set CPU affinity on process \(tid) to '\(cpus)': \(String(cString: strerror(code)))"
            if code == EINVAL {
                message += "; the CPUs must be online and allowed to this process (see nodecpumap)"
            }
            throw VirtError(.systemError, .host, message, errno: code)
        }
    }

    /// The CPUs thread `tid` (0: the calling thread) may run on, from `sched_getaffinity(2)`.
    public static func get(thread tid: Int32 = 0) throws(VirtError) -> CPUSet {
        var buffer = [Int32](repeating: 0, count: Int(CVIRT_SCHED_MAX_CPUS))
        let count = buffer.withUnsafeMutableBufferPointer {
            cvirt_sched_getaffinity(tid, $0.baseAddress, Int32($0.count))
        }
        guard count >= 0 else {
            throw VirtError(.systemError, .host,
                            "cannot get CPU affinity of process \(tid): \(String(cString: strerror(-count)))",
                            errno: -count)
        }
        return CPUSet(buffer.prefix(Int(count)).map(Int.init))
    }

    /// `Cpus_allowed_list` of thread `tid` of process `pid`, read from `/proc/PID/task/TID/status` under `root`.
    public static func allowedCPUs(pid: Int32, thread tid: Int32, root: String = "/") throws(VirtError) -> CPUSet {
        let path = "/proc/\(pid)/task/\(tid)/status"
        let fs = HostFileSystem(root: root)
        for line in try fs.read(path).split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            let list = String(line.dropFirst("Cpus_allowed_list:".count)).trimmingSpaces
            do {
                return try CPUSet(parsing: list)
            } catch {
                throw VirtError(.internalError, .host, "cannot parse '\(fs.resolve(path))': \(error.message)")
            }
        }
        throw VirtError(.internalError, .host, "'\(fs.resolve(path))' has no 'Cpus_allowed_list:' line")
    }
}
