#include "cvirt_thread.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cvirt_sigrtmin(void) {
    return SIGRTMIN;
}

static void cvirt_noop_handler(int signal) {
    (void)signal;
}

int cvirt_install_noop_handler(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = cvirt_noop_handler;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL);
}

int cvirt_unblock_signal(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int cvirt_set_current_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    return pthread_setname_np(pthread_self(), truncated);
}

int32_t cvirt_gettid(void) {
    return (int32_t)gettid();
}

int64_t cvirt_thread_cpu_time_ns(pthread_t thread) {
    clockid_t clock;
    if (pthread_getcpuclockid(thread, &clock) != 0) return -1;
    struct timespec now;
    if (clock_gettime(clock, &now) != 0) return -1;
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int cvirt_thread_create(pthread_t *thread, void *(*body)(void *), void *context) {
    return pthread_create(thread, NULL, body, context);
}
