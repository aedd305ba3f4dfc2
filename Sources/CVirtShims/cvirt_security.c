// cvirt_security.c: see cvirt_security.h. The child runs in the caller's memory until it execs (cvirt_vfork.h)
// and makes system calls only (open, write, close, setgroups, setresgid, setresuid, prctl, getppid, dup2, fcntl,
// close_range, execve, _exit); the credential changes bypass glibc's all-threads wrappers.
#include "cvirt_security.h"
#include "cvirt_spawn.h"
#include "cvirt_vfork.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t cvirt_strlen(const char *text) {
    size_t length = 0;
    while (text[length] != '\0') length++;
    return length;
}

static int cvirt_write_exec_label(const char *path, const char *label) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t length = cvirt_strlen(label);
    ssize_t written;
    do {
        written = write(fd, label, length);
    } while (written < 0 && errno == EINTR);
    int saved = written < 0 ? errno : (written == (ssize_t)length ? 0 : EIO);
    close(fd);
    return saved;
}

int cvirt_security_apply_credentials(const struct cvirt_exec_credentials *creds, int *error_out) {
    *error_out = 0;
    if (creds->exec_label != NULL && creds->exec_label_path != NULL) {
        int failure = cvirt_write_exec_label(creds->exec_label_path, creds->exec_label);
        if (failure != 0 && creds->exec_label_required) {
            *error_out = failure;
            return CVIRT_STAGE_EXEC_LABEL;
        }
    }
    for (int cap = 0; cap <= creds->drop_bounding_set_through; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            *error_out = errno;
            return CVIRT_STAGE_BOUNDING_SET;
        }
    }
    if (creds->change_identity) {
        if (cvirt_child_setgroups((size_t)creds->group_count, creds->groups) != 0) {
            *error_out = errno;
            return CVIRT_STAGE_SETGROUPS;
        }
        if (cvirt_child_setresgid(creds->gid) != 0) {
            *error_out = errno;
            return CVIRT_STAGE_SETRESGID;
        }
        if (cvirt_child_setresuid(creds->uid) != 0) {
            *error_out = errno;
            return CVIRT_STAGE_SETRESUID;
        }
    }
    // After the uid change: changing credentials clears the parent-death signal.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
        *error_out = errno;
        return CVIRT_STAGE_PDEATHSIG;
    }
    // The parent may have died before PR_SET_PDEATHSIG took effect; then no signal will ever come.
    if (creds->expected_parent > 0 && getppid() != creds->expected_parent) {
        *error_out = ESRCH;
        return CVIRT_STAGE_PARENT_GONE;
    }
    return CVIRT_STAGE_NONE;
}

// One confined spawn, shared by the caller and the child (which runs in the caller's memory until it execs).
struct cvirt_security_call {
    const char *path;
    char *const *argv;
    char *const *envp;
    const struct cvirt_exec_credentials *creds;
    const int *stdio_fds;
    const int *keep_fds;
    int keep_count;
    // Set by a child that failed before exec (then it exits 127).
    int stage;
    int error;
};

static int cvirt_child_fail(struct cvirt_security_call *call, int stage, int error) {
    call->stage = stage;
    call->error = error;
    _exit(127);
}

static int cvirt_security_child(void *argument) {
    struct cvirt_security_call *call = argument;
    const int *stdio_fds = call->stdio_fds;
    for (int target = 0; target < 3; target++) {
        if (stdio_fds == NULL || stdio_fds[target] < 0) continue;
        if (stdio_fds[target] == target) {
            int flags = fcntl(target, F_GETFD);
            if (flags < 0 || fcntl(target, F_SETFD, flags & ~FD_CLOEXEC) != 0)
                return cvirt_child_fail(call, CVIRT_STAGE_STDIO, errno);
        } else if (dup2(stdio_fds[target], target) < 0) {
            return cvirt_child_fail(call, CVIRT_STAGE_STDIO, errno);
        }
    }
    // Only the descriptors handed down survive exec (a lease connection, the store, another domain's files
    // must never reach a guest's hypervisor).
    cvirt_mark_descriptors_cloexec();
    for (int index = 0; index < call->keep_count; index++) {
        int flags = fcntl(call->keep_fds[index], F_GETFD);
        if (flags < 0 || fcntl(call->keep_fds[index], F_SETFD, flags & ~FD_CLOEXEC) != 0)
            return cvirt_child_fail(call, CVIRT_STAGE_KEEP_FDS, errno);
    }
    int error = 0;
    int stage = cvirt_security_apply_credentials(call->creds, &error);
    if (stage != CVIRT_STAGE_NONE) return cvirt_child_fail(call, stage, error);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(call->path, call->argv, call->envp);
    return cvirt_child_fail(call, CVIRT_STAGE_EXEC, errno);
}

pid_t cvirt_security_spawn(const char *path, char *const argv[], char *const envp[],
                           const struct cvirt_exec_credentials *creds, const int stdio_fds[3],
                           const int *keep_fds, int keep_count, int *stage_out, int *error_out) {
    struct cvirt_security_call call = {path, argv, envp, creds, stdio_fds, keep_fds, keep_count, CVIRT_STAGE_NONE, 0};
    // Returns once the child has exec'd or exited. The hypervisor starts with every signal at its default.
    pid_t pid = cvirt_clone_vfork(cvirt_security_child, &call, 1);
    if (pid < 0) {
        *stage_out = CVIRT_STAGE_FORK;
        *error_out = errno;
        return -1;
    }
    *stage_out = call.stage;
    *error_out = call.error;
    if (call.stage != CVIRT_STAGE_NONE) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return -1;
    }
    return pid;
}

int cvirt_security_drop_capabilities(int last_cap) {
    for (int cap = 0; cap <= last_cap; cap++) {
        int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (present < 0) {
            if (errno == EINVAL) break;  // beyond the kernel's last capability
            return -errno;
        }
        if (present == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            // Without CAP_SETPCAP (an unprivileged session hypervisor) the bounding set cannot shrink; with
            // no_new_privs and no permitted capabilities it can grant nothing either, so carry on.
            if (errno == EPERM) break;
            return -errno;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -errno;
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0) return -errno;
    return 0;
}

int cvirt_security_parent_death_signal(void) {
    int signal_number = 0;
    if (prctl(PR_GET_PDEATHSIG, &signal_number, 0, 0, 0) != 0) return -errno;
    return signal_number;
}
