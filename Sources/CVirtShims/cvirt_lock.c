// See include/cvirt_lock.h.
#include "cvirt_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static void byte0(struct flock *lock, short type) {
    memset(lock, 0, sizeof(*lock));
    lock->l_type = type;
    lock->l_whence = SEEK_SET;
    lock->l_start = 0;
    lock->l_len = 1;
    lock->l_pid = 0; // required by F_OFD_* commands
}

int cvirt_lock_byte0(int fd, int exclusive) {
    struct flock lock;
    byte0(&lock, exclusive ? F_WRLCK : F_RDLCK);
    return fcntl(fd, F_OFD_SETLK, &lock);
}

int cvirt_unlock_byte0(int fd) {
    struct flock lock;
    byte0(&lock, F_UNLCK);
    return fcntl(fd, F_OFD_SETLK, &lock);
}

int cvirt_lock_byte0_test(int fd, int exclusive, pid_t *holder_pid) {
    struct flock lock;
    byte0(&lock, exclusive ? F_WRLCK : F_RDLCK);
    if (fcntl(fd, F_OFD_GETLK, &lock) < 0) return -1;
    if (lock.l_type == F_UNLCK) return 0;
    if (holder_pid) *holder_pid = lock.l_pid;
    return 1;
}

int cvirt_accept_nonblock(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }

int cvirt_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cvirt_epoll_control(int epfd, int op, int fd, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = token;
    switch (op) {
    case 0: return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
    case 2: return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    default: errno = EINVAL; return -1;
    }
}

int cvirt_epoll_wait(int epfd, uint64_t *tokens, int *hangup, int capacity, int timeout_ms) {
    enum { MAX_EVENTS = 64 };
    struct epoll_event events[MAX_EVENTS];
    if (capacity > MAX_EVENTS) capacity = MAX_EVENTS;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    if (count < 0) return -1;
    for (int i = 0; i < count; i++) {
        tokens[i] = events[i].data.u64;
        hangup[i] = (events[i].events & (EPOLLERR | EPOLLHUP)) != 0;
    }
    return count;
}

static long cvirt_elapsed_ns(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

int cvirt_epoll_spin(int epfd, uint64_t *tokens, int *hangup, int capacity, long spin_ns) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        int count = cvirt_epoll_wait(epfd, tokens, hangup, capacity, 0);
        if (count != 0) return count;
        sched_yield();
    } while (cvirt_elapsed_ns(&start) < spin_ns);
    return 0;
}

ssize_t cvirt_recv_spinning(int fd, void *buffer, size_t length, long spin_ns) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (cvirt_elapsed_ns(&start) < spin_ns) {
        ssize_t got = recv(fd, buffer, length, MSG_DONTWAIT);
        if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return got;
        sched_yield();
    }
    return recv(fd, buffer, length, 0);
}

static void daemon_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

int cvirt_lockd_signalfd(void) {
    sigset_t set;
    daemon_signals(&set);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cvirt_signalfd_read(int sfd) {
    struct signalfd_siginfo info;
    ssize_t got = read(sfd, &info, sizeof(info));
    if (got != (ssize_t)sizeof(info)) return got < 0 && errno != EAGAIN ? -1 : 0;
    return (int)info.ssi_signo;
}

pid_t cvirt_spawn_session(const char *path, char *const argv[], char *const envp[]) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    pid_t pid = -1;
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0) { errno = rc; return -1; }
    posix_spawn_file_actions_init(&actions);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}
