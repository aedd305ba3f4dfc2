/// KVM ioctl request codes and helpers for Swift, which cannot import the `_IO*` function-like macros of
/// <linux/kvm.h>. Every symbol carries the `cvirt_`/`CVIRT_` prefix. Values come from the system's UAPI header.
#ifndef CVIRT_KVM_H
#define CVIRT_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

// System ioctls (on the /dev/kvm descriptor).
extern const unsigned long CVIRT_KVM_GET_API_VERSION;
extern const unsigned long CVIRT_KVM_CREATE_VM;
extern const unsigned long CVIRT_KVM_CHECK_EXTENSION;
extern const unsigned long CVIRT_KVM_GET_VCPU_MMAP_SIZE;
extern const unsigned long CVIRT_KVM_GET_SUPPORTED_CPUID;

// VM ioctls.
extern const unsigned long CVIRT_KVM_SET_TSS_ADDR;
extern const unsigned long CVIRT_KVM_SET_IDENTITY_MAP_ADDR;
extern const unsigned long CVIRT_KVM_CREATE_IRQCHIP;
extern const unsigned long CVIRT_KVM_CREATE_PIT2;
extern const unsigned long CVIRT_KVM_CREATE_VCPU;
extern const unsigned long CVIRT_KVM_SET_USER_MEMORY_REGION;
extern const unsigned long CVIRT_KVM_IRQ_LINE;

// vCPU ioctls.
extern const unsigned long CVIRT_KVM_RUN;
extern const unsigned long CVIRT_KVM_GET_REGS;
extern const unsigned long CVIRT_KVM_SET_REGS;
extern const unsigned long CVIRT_KVM_GET_SREGS;
extern const unsigned long CVIRT_KVM_SET_SREGS;
extern const unsigned long CVIRT_KVM_SET_FPU;
extern const unsigned long CVIRT_KVM_SET_MSRS;
extern const unsigned long CVIRT_KVM_SET_CPUID2;
extern const unsigned long CVIRT_KVM_GET_LAPIC;
extern const unsigned long CVIRT_KVM_SET_LAPIC;
extern const unsigned long CVIRT_KVM_KVMCLOCK_CTRL;

/// Size of `struct kvm_cpuid2`'s header before its flexible `entries` array.
extern const unsigned long CVIRT_KVM_CPUID2_HEADER_SIZE;
/// Size of `struct kvm_msrs`'s header before its flexible `entries` array.
extern const unsigned long CVIRT_KVM_MSRS_HEADER_SIZE;

/// `ioctl(fd, request, arg)` with an `unsigned long` value argument (KVM_SET_TSS_ADDR takes 0xfffbd000,
/// beyond Swift's `CInt` overload). Returns the ioctl result; -1 with errno set on failure.
int cvirt_ioctl_value(int fd, unsigned long request, unsigned long arg);

/// `ioctl(fd, request, pointer)`. Returns the ioctl result; -1 with errno set on failure.
int cvirt_ioctl_pointer(int fd, unsigned long request, void *arg);

/// Sets `immediate_exit` in a vCPU's mapped `kvm_run` with release ordering, so a KVM_RUN that starts after
/// this store returns -EINTR at once (KVM_CAP_IMMEDIATE_EXIT).
void cvirt_kvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value);

#endif
