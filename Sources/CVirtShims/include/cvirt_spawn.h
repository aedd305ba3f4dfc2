// Process creation for the per-domain processes: a child that shares the caller's memory until it execs
// (clone with CLONE_VM | CLONE_VFORK, as posix_spawn does) and makes system calls only (the parent may have
// threads). Nothing of the caller is copied, so neither side pays copy-on-write faults afterwards.
#ifndef CVIRT_SPAWN_H
#define CVIRT_SPAWN_H

#include <sys/types.h>

/// What the child does before exec.
struct cvirt_spawn_options {
    /// Descriptors that must survive exec: their close-on-exec flag is cleared in the child only.
    const int *keep_fds;
    /// Number of entries in keep_fds.
    int keep_count;
    /// Signal delivered to the child when the parent dies (PR_SET_PDEATHSIG), or 0 for none.
    int parent_death_signal;
    /// Non-zero: the child calls setsid() and so leaves the caller's session and terminal.
    int new_session;
    /// Non-zero: double spawn. An intermediate child calls setsid() and starts the real child, which is
    /// then not the caller's child (init or the nearest subreaper reaps it) and not a session leader.
    /// The returned pid is the real child's. parent_death_signal is ignored in this mode.
    int detach;
    /// Descriptor to put on the child's stdin, or -1 to keep the parent's.
    int stdin_fd;
    /// Descriptor to put on the child's stdout, or -1 to keep the parent's.
    int stdout_fd;
    /// Descriptor to put on the child's stderr, or -1 to keep the parent's.
    int stderr_fd;
};

/// Starts `path` with `argv` and `envp` (both NULL-terminated). Before exec the child only: clears close-on-exec on keep_fds, redirects stdio, calls setsid, sets the parent-death
/// signal and checks getppid() so a parent that died in between is noticed, resets the signal mask,
/// then execve. Returns the child's pid once exec has succeeded; if anything failed in the child,
/// returns -1 with errno set to the child's errno (the child is reaped), so exec errors reach the caller.
pid_t cvirt_spawn(const char *path, char *const argv[], char *const envp[], const struct cvirt_spawn_options *options);

/// Marks every descriptor from 3 up close-on-exec (close_range, else a loop up to RLIMIT_NOFILE), so a child
/// execs with only what it is handed. System calls only: for a child before exec.
void cvirt_mark_descriptors_cloexec(void);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec. Returns 0, or -1 with errno set.
int cvirt_pipe_cloexec(int fds[2]);

/// The process environment (`environ`), for building a child's envp.
char **cvirt_environment(void);

#endif
