#ifndef CEDIT_SHIM_H
#define CEDIT_SHIM_H
#include <stdio.h>
#include <editline/readline.h>

/* Accessors for libedit's global variables: Swift 6 refuses direct references to mutable C globals, and
 * virtsh touches them only from its single interactive thread (inside or around readline()). */

/** Sets `rl_readline_name` (the application name libedit's editrc sections match). */
static inline void cedit_set_readline_name(const char *name) { rl_readline_name = name; }

/** Sets `rl_attempted_completion_function`, the hook libedit calls on Tab. */
static inline void cedit_set_attempted_completion(rl_completion_func_t *function) {
    rl_attempted_completion_function = function;
}

/** The line being edited (`rl_line_buffer`). */
static inline const char *cedit_line_buffer(void) { return rl_line_buffer; }

/** Sets `rl_attempted_completion_over`: non-zero stops libedit from falling back to file names. */
static inline void cedit_set_completion_over(int over) { rl_attempted_completion_over = over; }

#endif
