// Termination signals for the per-domain processes: SIGTERM, SIGINT and SIGHUP end a domain cleanly
// (recorded as destroyed) instead of killing it as a crash.
#ifndef CVIRT_SIGNALS_H
#define CVIRT_SIGNALS_H

#include <sys/types.h>

/// Supervisor side: installs handlers for SIGTERM, SIGINT and SIGHUP that record the request and
/// forward SIGTERM to the pid last given to cvirt_set_termination_target (async-signal-safe).
/// Returns 0, or -1 with errno set.
int cvirt_install_termination_forwarder(void);

/// The pid that receives forwarded SIGTERMs (0: none). If a termination was already requested, the
/// new target is sent SIGTERM at once.
void cvirt_set_termination_target(pid_t pid);

/// The pid last given to cvirt_set_termination_target (0: none): the hypervisor the supervisor spawned.
pid_t cvirt_termination_target(void);

/// Non-zero once SIGTERM, SIGINT or SIGHUP arrived.
int cvirt_termination_requested(void);

/// Hypervisor side: blocks SIGTERM, SIGINT and SIGHUP in the calling thread; threads created
/// afterwards inherit the mask, so only cvirt_wait_termination_signal receives them. Returns 0 or -1.
int cvirt_block_termination_signals(void);

/// Waits for SIGTERM, SIGINT or SIGHUP (blocked beforehand) and returns its number, or -1.
int cvirt_wait_termination_signal(void);

#endif
