// cvirt_policy.h: scheduling policy of one thread (sched_setscheduler / sched_getscheduler) for Swift.
// SCHED_BATCH and SCHED_IDLE are _GNU_SOURCE constants that Swift's Glibc module does not import, so the policies
// are exported here as the numbers <linux/sched.h> gives them.
#ifndef CVIRT_POLICY_H
#define CVIRT_POLICY_H

#include <sys/types.h>

/// Scheduling policies, as <linux/sched.h> numbers them.
enum {
    CVIRT_SCHED_OTHER = 0,
    CVIRT_SCHED_FIFO = 1,
    CVIRT_SCHED_RR = 2,
    CVIRT_SCHED_BATCH = 3,
    CVIRT_SCHED_IDLE = 5,
};

/// sched_setscheduler(2) on thread `tid` (0: the caller) with `priority` (0 for the non-real-time policies).
/// Returns 0 or -errno.
int cvirt_sched_set_policy(pid_t tid, int policy, int priority);

/// sched_getscheduler(2) and sched_getparam(2) of thread `tid`: stores the policy (without SCHED_RESET_ON_FORK)
/// and the real-time priority. Returns 0 or -errno.
int cvirt_sched_get_policy(pid_t tid, int *policy, int *priority);

/// The lowest and highest priority of `policy` (sched_get_priority_min/max). Returns 0 or -errno.
int cvirt_sched_priority_range(int policy, int *minimum, int *maximum);

#endif
