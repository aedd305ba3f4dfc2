import CVirtShims
import Glibc
import VirtBase

/// Starts the hypervisor: a child sharing the supervisor's memory until exec runs only the C helper
/// (`cvirt_security_spawn`, system calls only):
/// stdio and kept descriptors, exec label, bounding-set drop, setgroups/setresgid/setresuid,
/// PR_SET_PDEATHSIG(SIGKILL) with the getppid() check, execve. Everything is prepared here, before the child exists.
public enum HypervisorLauncher {
    /// Where the child's standard descriptors come from.
    public struct StandardDescriptors: Sendable, Equatable {
        /// Descriptors for 0, 1, 2; nil inherits the parent's.
        public var input: Int32?, output: Int32?, error: Int32?

        /// Inherit all three unless given.
        public init(input: Int32? = nil, output: Int32? = nil, error: Int32? = nil) {
            self.input = input
            self.output = output
            self.error = error
        }
    }

    /// Spawns `executable` with `arguments` (argv[0] included) and `environment` (`KEY=value`) as `credentials`
    /// say; `keep` lists descriptors that stay open across exec (their numbers unchanged).
    /// Returns the child's pid once exec succeeded; a failed step is an error naming it.
    public static func spawn(
        executable: String, arguments: [String], environment: [String], credentials: HypervisorCredentials,
        standard: StandardDescriptors = StandardDescriptors(), keep: [Int32] = []
    ) throws(VirtError) -> pid_t {
        let argv = CStringArray(arguments)
        let envp = CStringArray(environment)
        defer {
            argv.free()
            envp.free()
        }
        let groups = (credentials.identity?.groups ?? []).map { gid_t($0) }
        let stdio: [Int32] = [standard.input ?? -1, standard.output ?? -1, standard.error ?? -1]
        var stage: Int32 = 0
        var failure: Int32 = 0
        let pid = executable.withCString { path in
            credentials.execLabelPath.withCString { labelPath in
                withOptionalCString(credentials.execLabel) { label in
                    groups.withUnsafeBufferPointer { groupBuffer in
                        var creds = cvirt_exec_credentials(
                            exec_label: label, exec_label_path: labelPath,
                            exec_label_required: credentials.execLabelRequired ? 1 : 0,
                            drop_bounding_set_through: Int32(credentials.dropBoundingSetThrough ?? -1),
                            change_identity: credentials.identity == nil ? 0 : 1,
                            uid: credentials.identity?.uid ?? 0, gid: credentials.identity?.gid ?? 0,
                            groups: groupBuffer.baseAddress, group_count: Int32(groupBuffer.count),
                            expected_parent: getpid())
                        return cvirt_security_spawn(
                            path, argv.pointers, envp.pointers, &creds, stdio, keep, Int32(keep.count), &stage,
                            &failure)
                    }
                }
            }
        }
        guard pid > 0 else {
            throw VirtError(
                .operationFailed, .security,
                "cannot start '\(executable)': \(describe(stage: stage, credentials: credentials)) failed: "
                    + String(cString: strerror(failure)), errno: failure)
        }
        return pid
    }

    /// The step a stage number stands for, in words.
    static func describe(stage: Int32, credentials: HypervisorCredentials) -> String {
        switch UInt32(bitPattern: stage) {
        case CVIRT_STAGE_EXEC_LABEL.rawValue:
            "setting the SELinux exec label '\(credentials.execLabel ?? "")'"
        case CVIRT_STAGE_BOUNDING_SET.rawValue: "dropping the capability bounding set"
        case CVIRT_STAGE_SETGROUPS.rawValue: "setgroups"
        case CVIRT_STAGE_SETRESGID.rawValue: "setresgid to gid \(credentials.identity?.gid ?? 0)"
        case CVIRT_STAGE_SETRESUID.rawValue: "setresuid to uid \(credentials.identity?.uid ?? 0)"
        case CVIRT_STAGE_PDEATHSIG.rawValue: "PR_SET_PDEATHSIG"
        case CVIRT_STAGE_PARENT_GONE.rawValue: "the parent-death check (the supervisor exited)"
        case CVIRT_STAGE_STDIO.rawValue: "redirecting standard descriptors"
        case CVIRT_STAGE_KEEP_FDS.rawValue: "keeping descriptors open across exec"
        case CVIRT_STAGE_EXEC.rawValue: "execve"
        case CVIRT_STAGE_FORK.rawValue: "creating the process (clone)"
        default: "step \(stage)"
        }
    }

    private static func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}

/// A NULL-terminated `char *[]` built before the child exists (the child must not allocate).
struct CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    func free() {
        for pointer in pointers { Glibc.free(pointer) }
    }
}
