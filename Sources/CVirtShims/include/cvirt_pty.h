/// Pseudo-terminals for serial consoles. Symbols carry the `cvirt_` prefix.
#ifndef CVIRT_PTY_H
#define CVIRT_PTY_H

#include <stddef.h>

/// Opens a new pty master (close-on-exec, non-blocking), unlocks it, puts the pair in raw mode and writes
/// the slave's path into `path` (of `capacity` bytes). Returns the master descriptor, or -1 with errno set.
int cvirt_open_pty(char *path, size_t capacity);

/// Opens the slave of the pty whose master is `master` without its path (`ioctl(TIOCGPTPEER)`, Linux 4.13+):
/// close-on-exec, non-blocking, not a controlling terminal. A confined hypervisor may not open paths, but may
/// make terminal ioctls. Returns the descriptor, or -1 with errno set.
int cvirt_pty_open_peer(int master);

#endif
