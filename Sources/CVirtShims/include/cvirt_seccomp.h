// cvirt_seccomp.h: no_new_privs and a seccomp BPF filter for the hypervisor. The filter program itself is built
// in Swift (Sources/Drivers/Security/SeccompFilter.swift); C only carries the kernel's structure and calls.
#ifndef CVIRT_SECCOMP_H
#define CVIRT_SECCOMP_H

#include <stdint.h>

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
struct cvirt_bpf_instruction {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};

/// Offsets into the kernel's `struct seccomp_data` (<linux/seccomp.h>).
enum {
    CVIRT_SECCOMP_DATA_NR = 0,
    CVIRT_SECCOMP_DATA_ARCH = 4,
};

/// Sets PR_SET_NO_NEW_PRIVS. Returns 0 or -errno.
int cvirt_seccomp_set_no_new_privs(void);

/// Installs `count` instructions as a seccomp filter (SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_TSYNC,
/// so every thread of the process is covered). Needs no_new_privs or CAP_SYS_ADMIN. Returns 0 or -errno
/// (a positive return is the id of a thread that could not be synchronised, reported as -ESRCH).
int cvirt_seccomp_install(const struct cvirt_bpf_instruction *program, unsigned short count);

/// The AUDIT_ARCH_* value of the architecture this file was compiled for (AUDIT_ARCH_X86_64 on x86_64).
uint32_t cvirt_seccomp_audit_arch(void);

/// syscall(number, a0, a1, a2): lets the probe make calls Swift cannot reach (an x32-ABI number, the variadic
/// ioctl). Returns the raw result, or -errno.
long cvirt_seccomp_raw_syscall(long number, long a0, long a1, long a2);

#endif
