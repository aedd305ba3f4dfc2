// Private to CVirtShims: the shared-memory child used by the spawn helpers.
#ifndef CVIRT_VFORK_H
#define CVIRT_VFORK_H

#include <sys/types.h>

/// The child's work: it must end in execve or _exit and may only make system calls (it runs on a stack of
/// its own but in the caller's memory, with the caller's thread-local storage).
typedef int (*cvirt_child_fn)(void *context);

/// Starts `fn(context)` in a new process that shares the caller's memory until it execs or exits
/// (clone with CLONE_VM | CLONE_VFORK, as posix_spawn does), on a private stack, with every signal blocked
/// and every caught signal reset to its default in the child, so no handler of the caller ever runs there
/// (with `reset_ignored`, the ignored ones too; otherwise they stay ignored across exec, as after fork).
/// The calling thread waits until the child has exec'd or exited; the caller's signal mask is restored.
/// Unlike fork, nothing of the caller is copied: no page tables, and no copy-on-write faults afterwards in a
/// caller whose pages are shared with a child. Returns the child's pid, or -1 with errno set.
pid_t cvirt_clone_vfork(cvirt_child_fn fn, void *context, int reset_ignored);

/// System calls for the child, bypassing glibc's wrappers where those act on every thread of the caller
/// (setgroups, setresgid and setresuid broadcast the change to all threads in a threaded process, which in a
/// child sharing the caller's memory would reach the caller's threads). Return 0, or -1 with errno set.
int cvirt_child_setgroups(size_t count, const gid_t *groups);
int cvirt_child_setresgid(gid_t gid);
int cvirt_child_setresuid(uid_t uid);

#endif
