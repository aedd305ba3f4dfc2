#include "cvirt_kvm.h"

#include <stddef.h>
#include <sys/ioctl.h>

const unsigned long CVIRT_KVM_GET_API_VERSION = KVM_GET_API_VERSION;
const unsigned long CVIRT_KVM_CREATE_VM = KVM_CREATE_VM;
const unsigned long CVIRT_KVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
const unsigned long CVIRT_KVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
const unsigned long CVIRT_KVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;

const unsigned long CVIRT_KVM_SET_TSS_ADDR = KVM_SET_TSS_ADDR;
const unsigned long CVIRT_KVM_SET_IDENTITY_MAP_ADDR = KVM_SET_IDENTITY_MAP_ADDR;
const unsigned long CVIRT_KVM_CREATE_IRQCHIP = KVM_CREATE_IRQCHIP;
const unsigned long CVIRT_KVM_CREATE_PIT2 = KVM_CREATE_PIT2;
const unsigned long CVIRT_KVM_CREATE_VCPU = KVM_CREATE_VCPU;
const unsigned long CVIRT_KVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
const unsigned long CVIRT_KVM_IRQ_LINE = KVM_IRQ_LINE;

const unsigned long CVIRT_KVM_RUN = KVM_RUN;
const unsigned long CVIRT_KVM_GET_REGS = KVM_GET_REGS;
const unsigned long CVIRT_KVM_SET_REGS = KVM_SET_REGS;
const unsigned long CVIRT_KVM_GET_SREGS = KVM_GET_SREGS;
const unsigned long CVIRT_KVM_SET_SREGS = KVM_SET_SREGS;
const unsigned long CVIRT_KVM_SET_FPU = KVM_SET_FPU;
const unsigned long CVIRT_KVM_SET_MSRS = KVM_SET_MSRS;
const unsigned long CVIRT_KVM_SET_CPUID2 = KVM_SET_CPUID2;
const unsigned long CVIRT_KVM_GET_LAPIC = KVM_GET_LAPIC;
const unsigned long CVIRT_KVM_SET_LAPIC = KVM_SET_LAPIC;
const unsigned long CVIRT_KVM_KVMCLOCK_CTRL = KVM_KVMCLOCK_CTRL;

const unsigned long CVIRT_KVM_CPUID2_HEADER_SIZE = offsetof(struct kvm_cpuid2, entries);
const unsigned long CVIRT_KVM_MSRS_HEADER_SIZE = offsetof(struct kvm_msrs, entries);

int cvirt_ioctl_value(int fd, unsigned long request, unsigned long arg) {
    return ioctl(fd, request, arg);
}

int cvirt_ioctl_pointer(int fd, unsigned long request, void *arg) {
    return ioctl(fd, request, arg);
}

void cvirt_kvm_run_set_immediate_exit(struct kvm_run *run, uint8_t value) {
    __atomic_store_n(&run->immediate_exit, value, __ATOMIC_RELEASE);
}
