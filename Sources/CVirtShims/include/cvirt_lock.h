// Lock daemon helpers: what Swift's Glibc module does not expose (open file description locks, epoll,
// signalfd, posix_spawn's setsid flag). Every function returns -1 with errno set on failure.
#ifndef CVIRT_LOCK_H
#define CVIRT_LOCK_H

#include <stdint.h>
#include <sys/types.h>

/// Takes a non-blocking open-file-description lock (F_OFD_SETLK) on byte 0, length 1, of `fd`:
/// a write lock when `exclusive` is non-zero, a read lock otherwise. EAGAIN/EACCES when held elsewhere.
int cvirt_lock_byte0(int fd, int exclusive);

/// Drops the open-file-description lock on byte 0 of `fd`.
int cvirt_unlock_byte0(int fd);

/// Asks whether a lock of the given kind on byte 0 would conflict (F_OFD_GETLK): 0 when free, 1 when a
/// conflicting lock exists (then `*holder_pid` is the holder's pid for a classic POSIX lock, -1 for an
/// open-file-description lock).
int cvirt_lock_byte0_test(int fd, int exclusive, pid_t *holder_pid);

/// accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK.
int cvirt_accept_nonblock(int fd);

/// epoll_create1(EPOLL_CLOEXEC).
int cvirt_epoll_create(void);

/// Adds (`op` 0) `fd` to `epfd` for input, level-triggered (reported whenever input or a hang-up is pending),
/// or removes it (2); `token` comes back from cvirt_epoll_wait.
int cvirt_epoll_control(int epfd, int op, int fd, uint64_t token);

/// Waits up to `timeout_ms` for events and writes at most `capacity` tokens to `tokens`; `hangup[i]` is
/// non-zero when the peer hung up or the descriptor failed. Returns the count (0 on timeout).
int cvirt_epoll_wait(int epfd, uint64_t *tokens, int *hangup, int capacity, int timeout_ms);

/// cvirt_epoll_wait polled (timeout 0) for up to `spin_ns` nanoseconds, giving the CPU to any other runnable
/// thread between polls (sched_yield); returns 0 when nothing came in that time. A request that comes back-to-back
/// with the previous one then finds the thread running: on a host whose idle CPUs take tens of microseconds to
/// wake (a nested VM) that wake-up is most of a round trip.
int cvirt_epoll_spin(int epfd, uint64_t *tokens, int *hangup, int capacity, long spin_ns);

/// recv(fd, buffer, length, 0), but first polled with MSG_DONTWAIT for up to `spin_ns` nanoseconds (yielding the
/// CPU between polls) before it blocks. Returns as recv.
ssize_t cvirt_recv_spinning(int fd, void *buffer, size_t length, long spin_ns);

/// Blocks SIGTERM, SIGINT, SIGQUIT, SIGHUP and SIGUSR1 in the calling thread (and threads it creates)
/// and returns a close-on-exec, non-blocking signalfd that reports them.
int cvirt_lockd_signalfd(void);

/// Reads one pending signal number from a signalfd; 0 when none is pending.
int cvirt_signalfd_read(int sfd);

/// Spawns `path` with `argv`/`envp` in a new session (POSIX_SPAWN_SETSID), stdin/stdout/stderr on
/// /dev/null. Returns the child's pid.
pid_t cvirt_spawn_session(const char *path, char *const argv[], char *const envp[]);

#endif
