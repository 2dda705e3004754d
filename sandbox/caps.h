/*
 * sandbox/caps.h - capabilities and identity switch for the container.
 */
#ifndef MOAT_SANDBOX_CAPS_H
#define MOAT_SANDBOX_CAPS_H

#include <stdint.h>

#include "common/err.h"
#include "sandbox/spec.h"

/* The default set (podman's 11): CHOWN DAC_OVERRIDE FOWNER FSETID KILL
 * NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT. */
uint64_t sandbox_caps_default(void);
/* "CAP_NET_RAW", "net_raw", "ALL" -> bit number(s); -1 when unknown. */
int sandbox_cap_from_name(const char *name);
const char *sandbox_cap_name(int cap);
/*
 * Drops the bounding set to SPEC->caps, switches to SPEC's uid/gid/groups,
 * and leaves effective = permitted = SPEC->caps for uid 0 (none otherwise),
 * inheritable and ambient empty. Runs after no_new_privs, before seccomp.
 */
int sandbox_caps_apply(const struct sandbox_spec *spec, struct err **err);

#endif
