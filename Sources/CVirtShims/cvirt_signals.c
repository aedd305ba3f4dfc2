#include "cvirt_signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t termination_requested = 0;
static volatile sig_atomic_t termination_target = 0;

static void forward_termination(int signal) {
    (void)signal;
    int saved = errno;
    termination_requested = 1;
    pid_t target = (pid_t)termination_target;
    if (target > 0) kill(target, SIGTERM);
    errno = saved;
}

static void termination_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

int cvirt_install_termination_forwarder(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = forward_termination;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: blocking reads return EINTR and the caller looks at the flag.
    const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        if (sigaction(signals[i], &action, NULL) < 0) return -1;
    }
    return 0;
}

pid_t cvirt_termination_target(void) {
    return (pid_t)termination_target;
}

void cvirt_set_termination_target(pid_t pid) {
    termination_target = pid;
    if (termination_requested && pid > 0) kill(pid, SIGTERM);
}

int cvirt_termination_requested(void) {
    return termination_requested;
}

int cvirt_block_termination_signals(void) {
    sigset_t set;
    termination_set(&set);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

int cvirt_wait_termination_signal(void) {
    sigset_t set;
    termination_set(&set);
    int signal = 0;
    int rc;
    do {
        rc = sigwait(&set, &signal);
    } while (rc == EINTR);
    return rc == 0 ? signal : -1;
}
