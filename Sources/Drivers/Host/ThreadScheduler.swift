import CVirtShims
import Glibc
import VirtBase

/// A thread's scheduling policy (`sched_setscheduler(2)`): what `<vcpusched>` asks of a vCPU thread.
public struct ThreadSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The policies `<vcpusched scheduler>` names, plus the default one to read back.
    public enum Policy: String, Sendable, Codable, CaseIterable {
        /// `SCHED_OTHER`, the default time-sharing policy.
        case other
        /// `SCHED_BATCH`: time-sharing, treated as CPU-bound.
        case batch
        /// `SCHED_IDLE`: runs only when nothing else wants the CPU.
        case idle
        /// `SCHED_FIFO`: real-time, first in first out; needs a priority.
        case fifo
        /// `SCHED_RR`: real-time, round robin; needs a priority.
        case rr

        /// The kernel's number for the policy.
        var kernelValue: Int32 {
            switch self {
            case .other: Int32(CVIRT_SCHED_OTHER)
            case .batch: Int32(CVIRT_SCHED_BATCH)
            case .idle: Int32(CVIRT_SCHED_IDLE)
            case .fifo: Int32(CVIRT_SCHED_FIFO)
            case .rr: Int32(CVIRT_SCHED_RR)
            }
        }

        /// Whether the policy is real-time (takes a priority, counts against a cgroup's real-time runtime).
        public var isRealTime: Bool { self == .fifo || self == .rr }
    }

    /// The policy.
    public var policy: Policy
    /// The real-time priority (1–99 on Linux) for fifo and rr, 0 otherwise.
    public var priority: Int

    /// A schedule; `priority` must be 0 for the policies that are not real-time.
    public init(policy: Policy, priority: Int = 0) {
        self.policy = policy
        self.priority = priority
    }

    /// `fifo priority 1`, `batch`.
    public var description: String { policy.isRealTime ? "\(policy.rawValue) priority \(priority)" : policy.rawValue }
}

/// Sets and reads thread scheduling policies (`sched_setscheduler(2)`, `sched_getscheduler(2)`).
public enum ThreadScheduler {
    /// Applies `schedule` to thread `tid` (0: the caller). The kernel's refusal comes back with its errno and a
    /// hint for the usual causes.
    public static func set(_ schedule: ThreadSchedule, thread tid: Int32) throws(VirtError) {
        if schedule.policy.isRealTime {
            let range = priorityRange(schedule.policy)
            guard range.contains(schedule.priority) else {
                throw VirtError(
                    .invalidArgument, .host,
                    "priority \(schedule.priority) of scheduler '\(schedule.policy.rawValue)' is outside the host's "
                        + "range \(range.lowerBound)-\(range.upperBound)")
            }
        }
        let rc = cvirt_sched_set_policy(tid, schedule.policy.kernelValue, Int32(schedule.priority))
        guard rc == 0 else {
            let code = -rc
            var message =
                "cannot set scheduler '\(schedule)' on thread \(tid): \(String(cString: strerror(code)))"
            if code == EPERM && schedule.policy.isRealTime {
                message +=
                    "; real-time policies need CAP_SYS_NICE (or RLIMIT_RTPRIO) and, where the kernel groups "
                    + "real-time tasks, cpu.rt_runtime_us in the thread's cpu cgroup"
            }
            throw VirtError(.systemError, .host, message, errno: code)
        }
    }

    /// The policy and priority of thread `tid` (0: the caller).
    public static func get(thread tid: Int32) throws(VirtError) -> ThreadSchedule {
        var policy: Int32 = 0
        var priority: Int32 = 0
        let rc = cvirt_sched_get_policy(tid, &policy, &priority)
        guard rc == 0 else {
            throw VirtError(
                .systemError, .host, "cannot read the scheduler of thread \(tid): \(String(cString: strerror(-rc)))",
                errno: -rc)
        }
        guard let known = ThreadSchedule.Policy.allCases.first(where: { $0.kernelValue == policy }) else {
            throw VirtError(.internalError, .host, "thread \(tid) has scheduling policy \(policy), which is not known")
        }
        return ThreadSchedule(policy: known, priority: Int(priority))
    }

    /// The host's priority range of `policy` (1...99 for the real-time policies on Linux, 0...0 otherwise).
    public static func priorityRange(_ policy: ThreadSchedule.Policy) -> ClosedRange<Int> {
        var low: Int32 = 0
        var high: Int32 = 0
        guard cvirt_sched_priority_range(policy.kernelValue, &low, &high) == 0, low <= high else { return 0...0 }
        return Int(low)...Int(high)
    }
}

/// The hand-written JSON form handed to the supervisor (see `JSONCodable`), as Codable's.
extension ThreadSchedule: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        policy = try json.required("policy")
        priority = try json.required("priority")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("policy", policy)
        writer.member("priority", priority)
        writer.endObject()
    }
}

extension ThreadSchedule.Policy: JSONCodable {}
