/// Threads and signals for the hypervisor's vCPU threads: naming, the kick signal, kernel thread ids and
/// per-thread CPU time. Symbols carry the `cvirt_` prefix.
#ifndef CVIRT_THREAD_H
#define CVIRT_THREAD_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/// The first real-time signal (`SIGRTMIN`, a macro Swift cannot import).
int cvirt_sigrtmin(void);

/// Installs a handler that does nothing for `signal` (no SA_RESTART), so the signal only interrupts
/// blocking calls such as KVM_RUN with EINTR. Returns 0 or -1 with errno set.
int cvirt_install_noop_handler(int signal);

/// Unblocks `signal` for the calling thread (threads inherit their creator's mask, and dispatch worker
/// threads block asynchronous signals). Returns 0 or an errno value.
int cvirt_unblock_signal(int signal);

/// Names the calling thread (at most 15 bytes are kept, as Linux allows). Returns 0 or an errno value.
int cvirt_set_current_thread_name(const char *name);

/// The calling thread's kernel thread id (`gettid`).
int32_t cvirt_gettid(void);

/// CPU time consumed by `thread` in nanoseconds (through its CPU-time clock), or -1 when unavailable.
int64_t cvirt_thread_cpu_time_ns(pthread_t thread);

/// Creates a joinable pthread that runs `body(context)`. Returns 0 or an errno value.
int cvirt_thread_create(pthread_t *thread, void *(*body)(void *), void *context);

#endif
