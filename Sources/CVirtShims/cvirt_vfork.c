#include "cvirt_vfork.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

// Room for the child's frames up to execve (the helpers keep nothing large on the stack).
#define CVIRT_CHILD_STACK_BYTES (64 * 1024)

struct cvirt_vfork_call {
    cvirt_child_fn fn;
    void *context;
    int reset_ignored;
};

static int cvirt_vfork_trampoline(void *argument) {
    struct cvirt_vfork_call *call = argument;
    // The child has its own copy of the dispositions (no CLONE_SIGHAND): reset the caught ones while every
    // signal is still blocked, so a signal arriving before exec cannot run the caller's handler here.
    struct sigaction defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        struct sigaction current;
        if (sigaction(signal_number, NULL, &current) != 0) continue;
        if (current.sa_handler == SIG_DFL || (current.sa_handler == SIG_IGN && !call->reset_ignored)) continue;
        sigaction(signal_number, &defaults, NULL);
    }
    return call->fn(call->context);
}

pid_t cvirt_clone_vfork(cvirt_child_fn fn, void *context, int reset_ignored) {
    void *stack = mmap(NULL, CVIRT_CHILD_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
    if (stack == MAP_FAILED) return -1;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    struct cvirt_vfork_call call = {fn, context, reset_ignored};
    pid_t pid = clone(cvirt_vfork_trampoline, (char *)stack + CVIRT_CHILD_STACK_BYTES, CLONE_VM | CLONE_VFORK | SIGCHLD,
                      &call);
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    munmap(stack, CVIRT_CHILD_STACK_BYTES);
    errno = saved_errno;
    return pid;
}

int cvirt_child_setgroups(size_t count, const gid_t *groups) {
    return (int)syscall(SYS_setgroups, count, groups);
}

int cvirt_child_setresgid(gid_t gid) {
    return (int)syscall(SYS_setresgid, gid, gid, gid);
}

int cvirt_child_setresuid(uid_t uid) {
    return (int)syscall(SYS_setresuid, uid, uid, uid);
}
