// cvirt_sched.h: thread affinity (sched_setaffinity with CPU_SET) and NUMA memory policy (mbind) for Swift.
// glibc's CPU_SET family are macros and mbind has no glibc wrapper, so Swift reaches them through here.
#ifndef CVIRT_SCHED_H
#define CVIRT_SCHED_H

#include <sys/types.h>

/// mbind(2) modes, as <linux/mempolicy.h> numbers them.
enum {
    CVIRT_MPOL_DEFAULT = 0,
    CVIRT_MPOL_PREFERRED = 1,
    CVIRT_MPOL_BIND = 2,
    CVIRT_MPOL_INTERLEAVE = 3,
    CVIRT_MPOL_LOCAL = 4,
};

/// mbind(2) flags, as <linux/mempolicy.h> numbers them.
enum {
    CVIRT_MPOL_MF_STRICT = 1 << 0,
    CVIRT_MPOL_MF_MOVE = 1 << 1,
    CVIRT_MPOL_MF_MOVE_ALL = 1 << 2,
};

/// The largest CPU number the affinity calls accept (exclusive): the size of the dynamic CPU set they use.
#define CVIRT_SCHED_MAX_CPUS 8192

/// Sets the affinity of thread `tid` (0: the caller) to the `count` CPU numbers in `cpus`.
/// Returns 0, or -errno (-EINVAL also for a CPU number outside 0..<CVIRT_SCHED_MAX_CPUS).
int cvirt_sched_setaffinity(pid_t tid, const int *cpus, int count);

/// Reads the affinity of thread `tid` (0: the caller) into `cpus` (ascending, at most `capacity` entries).
/// Returns how many CPUs the mask holds (which may exceed `capacity`), or -errno.
int cvirt_sched_getaffinity(pid_t tid, int *cpus, int capacity);

/// mbind(2) on [addr, addr+len): `nodemask` holds `maxnode` bits in unsigned longs. Returns 0 or -errno.
int cvirt_mbind(void *addr, unsigned long len, int mode, const unsigned long *nodemask, unsigned long maxnode,
                unsigned int flags);

/// get_mempolicy(2) with MPOL_F_ADDR for the page at `addr`: stores the mode and the node mask.
/// Returns 0 or -errno.
int cvirt_get_mempolicy_addr(void *addr, int *mode, unsigned long *nodemask, unsigned long maxnode);

#endif
