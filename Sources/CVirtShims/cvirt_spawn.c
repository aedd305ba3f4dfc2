#include "cvirt_spawn.h"
#include "cvirt_vfork.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// Marks every descriptor from 3 up close-on-exec, so the new program gets only what it is handed (a caller's
// database, lock or socket descriptor must not outlive it in a guest's processes). Async-signal-safe.
void cvirt_mark_descriptors_cloexec(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    struct rlimit limit;
    int top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < (rlim_t)top) {
        top = (int)limit.rlim_cur;
    }
    for (int fd = 3; fd < top; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

// One spawn, shared by the caller and its children (they run in the caller's memory until they exec).
struct cvirt_spawn_call {
    const char *path;
    char *const *argv;
    char *const *envp;
    const struct cvirt_spawn_options *options;
    pid_t parent;
    // Set by a child that failed before exec (then it exits 127).
    int child_errno;
    // Set by the intermediate child of a detached spawn: the real child's pid.
    pid_t detached_pid;
};

static int fail_child(struct cvirt_spawn_call *call) {
    call->child_errno = errno != 0 ? errno : ECHILD;
    _exit(127);
}

// The child: system calls only, then execve. Reports its errno in the shared call and exits on failure.
static int run_child(void *argument) {
    struct cvirt_spawn_call *call = argument;
    const struct cvirt_spawn_options *o = call->options;
    cvirt_mark_descriptors_cloexec();
    for (int i = 0; o && i < o->keep_count; i++) {
        if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0) return fail_child(call);
    }
    if (o) {
        const int sources[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
        for (int target = 0; target <= 2; target++) {
            if (sources[target] >= 0 && sources[target] != target && dup2(sources[target], target) < 0) {
                return fail_child(call);
            }
        }
    }
    if (o && o->new_session && !o->detach && setsid() < 0) return fail_child(call);
    if (o && o->parent_death_signal > 0 && !o->detach) {
        if (prctl(PR_SET_PDEATHSIG, o->parent_death_signal, 0, 0, 0) < 0) return fail_child(call);
        // The parent may have died before prctl took effect: then nobody would ever signal us.
        if (getppid() != call->parent) {
            errno = ESRCH;
            return fail_child(call);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(call->path, call->argv, call->envp);
    return fail_child(call);
}

// Detached start: the intermediate child leaves the session, starts the real child, names it, and exits,
// so the real child is reparented to init (or the nearest subreaper) and is never the caller's to reap.
static int run_detached(void *argument) {
    struct cvirt_spawn_call *call = argument;
    if (setsid() < 0) return fail_child(call);
    pid_t grandchild = cvirt_clone_vfork(run_child, call, 0);
    if (grandchild < 0) return fail_child(call);
    // The real child has exec'd or failed (then it set child_errno and exits on its own; init reaps it).
    call->detached_pid = grandchild;
    _exit(0);
}

pid_t cvirt_spawn(const char *path, char *const argv[], char *const envp[], const struct cvirt_spawn_options *options) {
    int detach = options && options->detach;
    struct cvirt_spawn_call call = {path, argv, envp, options, getpid(), 0, -1};
    // Returns once the child has exec'd or exited (and, detached, once the intermediate child has exited).
    pid_t pid = cvirt_clone_vfork(detach ? run_detached : run_child, &call, 0);
    if (pid < 0) return -1;
    if (detach || call.child_errno != 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (call.child_errno != 0 || (detach && call.detached_pid <= 0)) {
        errno = call.child_errno != 0 ? call.child_errno : ECHILD;
        return -1;
    }
    return detach ? call.detached_pid : pid;
}

int cvirt_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

char **cvirt_environment(void) {
    return environ;
}

