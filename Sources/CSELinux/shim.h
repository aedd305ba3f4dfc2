#ifndef CSELINUX_SHIM_H
#define CSELINUX_SHIM_H
/* libselinux (Debian libselinux1-dev): enabled/enforcing probes, file contexts, policy context paths,
   and the file_contexts lookup used to restore a file whose original label was not remembered. */
#include <selinux/selinux.h>
#include <selinux/label.h>
#endif
