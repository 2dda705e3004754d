/*
 * common/userns.h - user namespace id maps, shared by the sandbox and by
 * layer extraction/removal in rootless subuid mode.
 */
#ifndef MOAT_USERNS_H
#define MOAT_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "sandbox/spec.h"

/*
 * Writes PID's uid_map and gid_map. As root, or for a single mapping of the
 * caller's own ids, directly (setgroups "deny" first for the single case);
 * otherwise through newuidmap/newgidmap, naming them when missing.
 */
int userns_write_maps(pid_t pid, enum sandbox_userns mode, const struct idmap *uid, size_t nu,
		      const struct idmap *gid, size_t ng, struct err **err);
/*
 * Runs FN(ARG) in a forked child inside a new user namespace with the given
 * maps, where it is root (uid 0 maps to the first entry). Returns FN's
 * return value (>= 0) or a negative errno if the child could not run.
 */
int userns_run(enum sandbox_userns mode, const struct idmap *uid, size_t nu,
	       const struct idmap *gid, size_t ng, int (*fn)(void *), void *arg, struct err **err);
/*
 * Reads /etc/subuid and /etc/subgid for USER/UID and fills a 65,536-id
 * mapping (container 0 = the caller, 1..65535 = the subordinate range).
 * ENOENT with a clear message when there is no entry.
 */
int userns_subid_maps(uid_t uid, gid_t gid, struct idmap *u, size_t *nu, struct idmap *g,
		      size_t *ng, struct err **err);
/* The range root uses for containers: container 0..65535 -> host
 * MOAT_ROOT_BASE..+65535 (see docs/ARCHITECTURE.md). */
#define MOAT_ROOT_ID_BASE 2147418112u /* 0x7fff0000, far above any login id */
#define MOAT_ID_RANGE 65536u

#endif
