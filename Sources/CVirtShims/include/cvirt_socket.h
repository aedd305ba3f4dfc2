// Unix-domain socket helpers for the monitor and the lock daemon: what Swift cannot spell cleanly
// (sockaddr_un, SO_PEERCRED's struct ucred, non-blocking connect with a deadline).
#ifndef CVIRT_SOCKET_H
#define CVIRT_SOCKET_H

#include <sys/types.h>

/// Longest path a sockaddr_un can carry, without the terminating NUL (107 on Linux).
int cvirt_unix_path_max(void);

/// Creates a listening SOCK_STREAM Unix socket at `path` (close-on-exec), with file mode `mode` applied
/// before anyone can connect (bind happens under a restrictive umask, then fchmod-equivalent chmod).
/// A stale socket file at `path` is replaced. Returns the descriptor, or -1 with errno set
/// (ENAMETOOLONG when `path` passes cvirt_unix_path_max()).
int cvirt_unix_listen(const char *path, mode_t mode, int backlog);

/// Connects to the Unix socket at `path` (close-on-exec), waiting at most `timeout_ms` for the
/// connection to be accepted into the backlog. Returns the descriptor (blocking mode), or -1 with errno
/// set (ETIMEDOUT when the deadline passed).
int cvirt_unix_connect(const char *path, int timeout_ms);

/// Accepts one connection on a listening socket; the new descriptor is close-on-exec. Returns it, or -1
/// with errno set.
int cvirt_accept(int listen_fd);

/// The peer's credentials of a connected Unix socket (SO_PEERCRED). Returns 0, or -1 with errno set.
int cvirt_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid);

#endif
