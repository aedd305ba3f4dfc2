#include "cvirt_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

// Runs in the forked child: async-signal-safe calls only. Reports errno through `report` and exits.
static void child(int report, pid_t parent, const char *path, char *const argv[], char *const envp[],
                  const struct cvirt_spawn_options *o) {
    int err = 0;
    for (int i = 0; o && i < o->keep_count; i++) {
        if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0) goto fail;
    }
    if (o) {
        const int sources[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
        for (int target = 0; target <= 2; target++) {
            if (sources[target] >= 0 && sources[target] != target && dup2(sources[target], target) < 0) goto fail;
        }
    }
    if (o && o->new_session && setsid() < 0) goto fail;
    if (o && o->parent_death_signal > 0) {
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
    err = errno;
    while (write(report, &err, sizeof(err)) < 0 && errno == EINTR) {}
    _exit(127);
}

pid_t cvirt_spawn(const char *path, char *const argv[], char *const envp[], const struct cvirt_spawn_options *options) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) return -1;
    pid_t parent = getpid();
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
        child(pipefd[1], parent, path, argv, envp, options);
    }
    close(pipefd[1]);
    int child_errno = 0;
    ssize_t got;
    do {
        got = read(pipefd[0], &child_errno, sizeof(child_errno));
    } while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof(child_errno)) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        errno = child_errno;
        return -1;
    }
    return pid;
}

int cvirt_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

char **cvirt_environment(void) {
    return environ;
}

pid_t cvirt_self_tid(void) {
    return gettid();
}
