#include "cvirt_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int cvirt_unix_path_max(void) {
    struct sockaddr_un addr;
    return (int)sizeof(addr.sun_path) - 1;
}

static int fill_address(struct sockaddr_un *addr, const char *path) {
    size_t length = strlen(path);
    if (length == 0 || length > (size_t)cvirt_unix_path_max()) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    memcpy(addr->sun_path, path, length + 1);
    return 0;
}

int cvirt_unix_listen(const char *path, mode_t mode, int backlog) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    // bind() gives the socket file the socket inode's mode (less the umask), so setting it on the descriptor
    // first means nobody can connect between bind and chmod, without narrowing the process-wide umask under
    // the feet of other threads creating files. The chmod afterwards makes the mode exact whatever the umask.
    int rc = fchmod(fd, mode & 0777);
    if (rc == 0) rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    if (rc < 0 || chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cvirt_unix_connect(const char *path, int timeout_ms) {
    struct sockaddr_un addr;
    if (fill_address(&addr, path) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) break;
        if (errno == EINTR) continue;
        // A full backlog answers EAGAIN on Unix sockets: wait and retry until the deadline.
        if (errno == EAGAIN || errno == EINPROGRESS) {
            long long left = deadline - now_ms();
            if (left <= 0) {
                close(fd);
                errno = ETIMEDOUT;
                return -1;
            }
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int wait = left < 10 ? (int)left : 10;
            if (poll(&p, 1, wait) < 0 && errno != EINTR) break;
            continue;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int cvirt_accept(int listen_fd) {
    return accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

int cvirt_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid) {
    struct ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) return -1;
    if (uid) *uid = cred.uid;
    if (gid) *gid = cred.gid;
    if (pid) *pid = cred.pid;
    return 0;
}
