// cvirt_seccomp.c: see cvirt_seccomp.h.
#include "cvirt_seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(struct cvirt_bpf_instruction) == sizeof(struct sock_filter), "sock_filter layout");
_Static_assert(offsetof(struct seccomp_data, nr) == CVIRT_SECCOMP_DATA_NR, "seccomp_data.nr");
_Static_assert(offsetof(struct seccomp_data, arch) == CVIRT_SECCOMP_DATA_ARCH, "seccomp_data.arch");

int cvirt_seccomp_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int cvirt_seccomp_install(const struct cvirt_bpf_instruction *program, unsigned short count) {
    struct sock_fprog prog = {count, (struct sock_filter *)program};
    long result = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    if (result < 0) return -errno;
    if (result > 0) return -ESRCH;
    return 0;
}

uint32_t cvirt_seccomp_audit_arch(void) {
#if defined(__x86_64__)
    return AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    return AUDIT_ARCH_AARCH64;
#else
#error "seccomp filter: unsupported architecture"
#endif
}

long cvirt_seccomp_raw_syscall(long number, long a0, long a1, long a2) {
    long result = syscall(number, a0, a1, a2);
    return result < 0 ? -errno : result;
}
