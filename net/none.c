/*
 * net/none.c - the "none" driver: Docker's predefined network "none". The
 * container gets a network namespace of its own with only its loopback
 * interface, which its init brings up; nothing exists on the host side.
 *
 * Runs in: the moat process and the container's monitor, as any user
 * (nothing here needs a privilege: the namespace is the sandbox's).
 *
 * Invariants: there is exactly one network of this driver, the
 * predefined "none" (engine/networks.c), so `network create -d none`
 * is refused by check, before anything exists; every other operation
 * has nothing to do and succeeds (idempotent by having no effect).
 */
#include "net/driver.h"

#include <errno.h>

static int none_check(struct net_network *n, struct err **err)
{
	(void)n;
	return err_set(err, EPERM, "only one instance of \"none\" network is allowed");
}

const struct net_driver net_driver_none = {
    .name = "none",
    .root_only = false,
    .needs_netns = true,
    .has_ipam = false,
    .check = none_check,
    .create = net_driver_noop,
    .remove = net_driver_noop,
    .attach = net_driver_noop_attach,
    .detach = net_driver_noop_detach,
};
