/*
 * sandbox/caps.c - capabilities and the switch to the container's user.
 *
 * Runs in: the container's setup child, after pivot_root, Landlock and
 * no_new_privs, before seccomp. Uses libcap-ng, whose state is
 * process-local: no allocation happens in this child after fork that could
 * deadlock (the child is single-threaded).
 *
 * Invariants (CVE-2022-24769 class): inheritable and ambient sets are
 * empty; the bounding set never exceeds SPEC->caps, so a setuid or
 * file-capability binary inside cannot regain more.
 */
#include "sandbox/caps.h"

#include "policy/caps.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

uint64_t sandbox_caps_default(void)
{
	static const int def[] = {CAP_CHOWN,   CAP_DAC_OVERRIDE,     CAP_FOWNER,    CAP_FSETID,
				  CAP_KILL,    CAP_NET_BIND_SERVICE, CAP_SETFCAP,   CAP_SETGID,
				  CAP_SETPCAP, CAP_SETUID,	     CAP_SYS_CHROOT};
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		m |= 1ULL << def[i];
	return m;
}

int sandbox_cap_from_name(const char *name)
{
	return policy_cap_from_name(name);
}

const char *sandbox_cap_name(int cap)
{
	return policy_cap_name(cap);
}

int sandbox_caps_apply(const struct sandbox_spec *spec, struct err **err)
{
	int last = (int)CAP_LAST_CAP;

	/* 1. Bounding set: needs CAP_SETPCAP, which we still hold. */
	for (int c = 0; c <= last; c++) {
		if (spec->caps & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return err_errno(err, errno, "drop capability %s from the bounding set",
					 sandbox_cap_name(c));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_errno(err, errno, "clear ambient capabilities");

	/* 2. Identity. setgroups is denied in single-id user namespaces,
	 * where only gid 0 exists anyway. */
	if (spec->userns != SANDBOX_USERNS_SINGLE && setgroups(spec->n_groups, spec->groups) < 0)
		return err_errno(err, errno, "setgroups");
	if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
		return err_errno(err, errno, "switch to group %u", (unsigned)spec->gid);
	if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
		return err_errno(err, errno, "switch to user %u", (unsigned)spec->uid);

	/* 3. Effective/permitted: the kept set for uid 0; a non-zero uid lost
	 * them in setresuid. Inheritable is always empty. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (spec->uid == 0) {
		for (int c = 0; c <= last; c++)
			if (spec->caps & (1ULL << c))
				capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
					     (unsigned)c);
	}
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return err_set(err, EPERM, "apply capabilities");
	return 0;
}
