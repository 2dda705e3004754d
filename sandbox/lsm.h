/*
 * sandbox/lsm.h - AppArmor and SELinux: detection, and the exec label.
 */
#ifndef MOAT_SANDBOX_LSM_H
#define MOAT_SANDBOX_LSM_H

#include <stdbool.h>

#include "common/err.h"

struct lsm_status {
	bool apparmor;	/* active on this host */
	bool selinux;	/* active (enforcing or permissive) */
	char list[256]; /* /sys/kernel/security/lsm or /proc/... as found */
};

void sandbox_lsm_detect(struct lsm_status *st);
/*
 * Sets the AppArmor profile the container's command will exec into.
 * PROFILE NULL and AppArmor inactive: nothing to do. Writes go through a
 * private procfs check (fstatfs == PROC_SUPER_MAGIC, CVE-2019-16884).
 */
int sandbox_lsm_apply(const char *apparmor_profile, struct err **err);

#endif
