// cvirt_sched.c: see include/cvirt_sched.h.
#include "cvirt_sched.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/// MPOL_F_ADDR from <linux/mempolicy.h>: get_mempolicy reports the policy of the page at addr.
#define CVIRT_MPOL_F_ADDR (1 << 1)

int cvirt_sched_setaffinity(pid_t tid, const int *cpus, int count) {
    if (count < 0 || (count > 0 && cpus == NULL)) return -EINVAL;
    cpu_set_t *set = CPU_ALLOC(CVIRT_SCHED_MAX_CPUS);
    if (set == NULL) return -ENOMEM;
    size_t size = CPU_ALLOC_SIZE(CVIRT_SCHED_MAX_CPUS);
    CPU_ZERO_S(size, set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CVIRT_SCHED_MAX_CPUS) {
            CPU_FREE(set);
            return -EINVAL;
        }
        CPU_SET_S((size_t)cpus[i], size, set);
    }
    int rc = sched_setaffinity(tid, size, set);
    int saved = errno;
    CPU_FREE(set);
    return rc == 0 ? 0 : -saved;
}

int cvirt_sched_getaffinity(pid_t tid, int *cpus, int capacity) {
    cpu_set_t *set = CPU_ALLOC(CVIRT_SCHED_MAX_CPUS);
    if (set == NULL) return -ENOMEM;
    size_t size = CPU_ALLOC_SIZE(CVIRT_SCHED_MAX_CPUS);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(tid, size, set) != 0) {
        int saved = errno;
        CPU_FREE(set);
        return -saved;
    }
    int found = 0;
    for (int cpu = 0; cpu < CVIRT_SCHED_MAX_CPUS; cpu++) {
        if (!CPU_ISSET_S((size_t)cpu, size, set)) continue;
        if (found < capacity && cpus != NULL) cpus[found] = cpu;
        found++;
    }
    CPU_FREE(set);
    return found;
}

int cvirt_mbind(void *addr, unsigned long len, int mode, const unsigned long *nodemask, unsigned long maxnode,
                unsigned int flags) {
    long rc = syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
    return rc == 0 ? 0 : -errno;
}

int cvirt_get_mempolicy_addr(void *addr, int *mode, unsigned long *nodemask, unsigned long maxnode) {
    long rc = syscall(SYS_get_mempolicy, mode, nodemask, maxnode, addr, CVIRT_MPOL_F_ADDR);
    return rc == 0 ? 0 : -errno;
}
