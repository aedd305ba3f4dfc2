// cvirt_security.h: the hypervisor's privilege change between its creation and exec, and its capability drop
// after exec.
//
// The child runs in the supervisor's memory until it execs (clone with CLONE_VM | CLONE_VFORK, as posix_spawn
// does) and makes system calls only, so everything is computed by the caller beforehand and passed in `struct cvirt_exec_credentials`:
// the SELinux exec label, the uid, gid and supplementary groups. See docs/security.md, "Privilege drop".
#ifndef CVIRT_SECURITY_H
#define CVIRT_SECURITY_H

#include <sys/types.h>
#include <sys/xattr.h> /* getxattr/setxattr/removexattr for remembered labels, re-exported to Swift */

/// What the child becomes before exec. Every field is prepared by the parent; nothing here allocates.
struct cvirt_exec_credentials {
    /// The SELinux exec label ("system_u:system_r:svirt_t:s0:c1,c2"), or NULL to leave the label alone.
    const char *exec_label;
    /// Where the label is written: "/proc/self/attr/exec" on a real host (a test may pass a plain file).
    const char *exec_label_path;
    /// Whether a failed label write is fatal (SELinux enforcing); otherwise it is ignored.
    int exec_label_required;
    /// Drop capabilities 0...N from the bounding set before the uid change (-1: leave it; needs CAP_SETPCAP).
    int drop_bounding_set_through;
    /// Whether to change identity at all (0: keep the parent's uid, gid and groups).
    int change_identity;
    uid_t uid;
    gid_t gid;
    /// Supplementary groups (setgroups); `group_count` may be 0 to clear them.
    const gid_t *groups;
    int group_count;
    /// The parent's pid before the child exists: if getppid() differs after PR_SET_PDEATHSIG, the parent died already.
    pid_t expected_parent;
};

/// The step of the child set-up that failed (reported with its errno).
enum cvirt_exec_stage {
    CVIRT_STAGE_NONE = 0,
    CVIRT_STAGE_EXEC_LABEL = 1,
    CVIRT_STAGE_SETGROUPS = 2,
    CVIRT_STAGE_BOUNDING_SET = 11,
    CVIRT_STAGE_SETRESGID = 3,
    CVIRT_STAGE_SETRESUID = 4,
    CVIRT_STAGE_PDEATHSIG = 5,
    CVIRT_STAGE_PARENT_GONE = 6,
    CVIRT_STAGE_STDIO = 7,
    CVIRT_STAGE_KEEP_FDS = 8,
    CVIRT_STAGE_EXEC = 9,
    CVIRT_STAGE_FORK = 10,
};

/// Applies `creds` in the calling child (before exec): exec label, bounding-set drop,
/// setgroups/setresgid/setresuid (raw system calls, which change the calling process only), then
/// PR_SET_PDEATHSIG(SIGKILL) and the getppid() check. Async-signal-safe. Returns 0, or the failed
/// `cvirt_exec_stage` with `*error_out` set to the errno.
int cvirt_security_apply_credentials(const struct cvirt_exec_credentials *creds, int *error_out);

/// Starts a child that shares the caller's memory until exec (no page tables copied, no copy-on-write faults
/// afterwards), and in it: reset signal dispositions and the signal mask to the defaults, dup2
/// `stdio_fds[i]` onto fd i (where not -1), mark every other descriptor from 3 up close-on-exec, clear
/// FD_CLOEXEC on the `keep_count` descriptors of `keep_fds`,
/// apply `creds`, and execve(path, argv, envp).
/// The calling thread resumes once the child has exec'd or failed; the child reports a failure in shared
/// memory: returns the child's pid once exec succeeded, or -1 with `*stage_out`/`*error_out` naming the failed step (the child is reaped then).
pid_t cvirt_security_spawn(const char *path, char *const argv[], char *const envp[],
                           const struct cvirt_exec_credentials *creds, const int stdio_fds[3],
                           const int *keep_fds, int keep_count, int *stage_out, int *error_out);

/// Drops every capability of the calling thread: the bounding set (0...last_cap; capabilities already gone are
/// skipped, and without CAP_SETPCAP the set is left as it is, since with no_new_privs it can grant nothing),
/// the ambient set, and the effective/permitted/inheritable sets (capset to zero). Returns 0 or -errno.
int cvirt_security_drop_capabilities(int last_cap);

/// prctl(PR_GET_PDEATHSIG): the calling process's parent-death signal (0: none), or -errno.
int cvirt_security_parent_death_signal(void);

#endif
