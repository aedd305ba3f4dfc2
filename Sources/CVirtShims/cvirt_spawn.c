#include "cvirt_spawn.h"

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

// What the forked processes tell the caller through the report pipe.
enum { REPORT_ERRNO = 1, REPORT_PID = 2 };
struct report_record {
    int kind;
    int value;
};

static void send_record(int report, int kind, int value) {
    struct report_record record = {kind, value};
    while (write(report, &record, sizeof(record)) < 0 && errno == EINTR) {}
}

// Runs in the forked child: async-signal-safe calls only. Reports errno through `report` and exits.
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

static void child(int report, pid_t parent, const char *path, char *const argv[], char *const envp[],
                  const struct cvirt_spawn_options *o) {
    cvirt_mark_descriptors_cloexec();
    for (int i = 0; o && i < o->keep_count; i++) {
        if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0) goto fail;
    }
    if (o) {
        const int sources[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
        for (int target = 0; target <= 2; target++) {
            if (sources[target] >= 0 && sources[target] != target && dup2(sources[target], target) < 0) goto fail;
        }
    }
    if (o && o->new_session && !o->detach && setsid() < 0) goto fail;
    if (o && o->parent_death_signal > 0 && !o->detach) {
        if (prctl(PR_SET_PDEATHSIG, o->parent_death_signal, 0, 0, 0) < 0) goto fail;
        // The parent may have died before prctl took effect: then nobody would ever signal us.
        if (getppid() != parent) {
            errno = ESRCH;
            goto fail;
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
fail:
    send_record(report, REPORT_ERRNO, errno);
    _exit(127);
}

// Detached start: the intermediate child leaves the session, forks the real child, names it, and exits,
// so the real child is reparented to init (or the nearest subreaper) and is never the caller's to reap.
static void detach_then_child(int report, const char *path, char *const argv[], char *const envp[],
                              const struct cvirt_spawn_options *o) {
    if (setsid() < 0) {
        send_record(report, REPORT_ERRNO, errno);
        _exit(127);
    }
    pid_t grandchild = fork();
    if (grandchild < 0) {
        send_record(report, REPORT_ERRNO, errno);
        _exit(127);
    }
    if (grandchild > 0) {
        send_record(report, REPORT_PID, grandchild);
        _exit(0);
    }
    child(report, 0, path, argv, envp, o);
}

pid_t cvirt_spawn(const char *path, char *const argv[], char *const envp[], const struct cvirt_spawn_options *options) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) return -1;
    pid_t parent = getpid();
    int detach = options && options->detach;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        if (detach) detach_then_child(pipefd[1], path, argv, envp, options);
        child(pipefd[1], parent, path, argv, envp, options);
    }
    close(pipefd[1]);
    // The pipe closes when every writer has exec'd or exited: read every record until then.
    pid_t result = detach ? -1 : pid;
    int child_errno = 0;
    struct report_record record;
    for (;;) {
        ssize_t got = read(pipefd[0], &record, sizeof(record));
        if (got < 0 && errno == EINTR) continue;
        if (got != (ssize_t)sizeof(record)) break;
        if (record.kind == REPORT_PID) result = record.value;
        if (record.kind == REPORT_ERRNO) child_errno = record.value;
    }
    close(pipefd[0]);
    if (detach || child_errno != 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    if (child_errno != 0 || result <= 0) {
        errno = child_errno != 0 ? child_errno : ECHILD;
        return -1;
    }
    return result;
}

int cvirt_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

char **cvirt_environment(void) {
    return environ;
}

