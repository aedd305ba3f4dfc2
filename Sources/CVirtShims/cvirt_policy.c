// cvirt_policy.c: see include/cvirt_policy.h.
#include "cvirt_policy.h"

#include <errno.h>
#include <sched.h>

/// SCHED_RESET_ON_FORK from <linux/sched.h>: a flag or-ed into the policy sched_getscheduler reports.
#define CVIRT_SCHED_RESET_ON_FORK 0x40000000

int cvirt_sched_set_policy(pid_t tid, int policy, int priority) {
    struct sched_param param = {.sched_priority = priority};
    return sched_setscheduler(tid, policy, &param) == 0 ? 0 : -errno;
}

int cvirt_sched_get_policy(pid_t tid, int *policy, int *priority) {
    int current = sched_getscheduler(tid);
    if (current < 0) return -errno;
    struct sched_param param = {0};
    if (sched_getparam(tid, &param) != 0) return -errno;
    *policy = current & ~CVIRT_SCHED_RESET_ON_FORK;
    *priority = param.sched_priority;
    return 0;
}

int cvirt_sched_priority_range(int policy, int *minimum, int *maximum) {
    int low = sched_get_priority_min(policy);
    if (low < 0) return -errno;
    int high = sched_get_priority_max(policy);
    if (high < 0) return -errno;
    *minimum = low;
    *maximum = high;
    return 0;
}
