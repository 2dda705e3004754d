/*
 * net/host.c - the "host" driver: Docker's predefined network "host". The
 * container stays in the host's network namespace (`--network host`, a
 * loosening the tenant policy can forbid); nothing is created or
 * attached.
 *
 * Runs in: the moat process and the container's monitor, as any user.
 *
 * Invariants: there is exactly one network of this driver, the
 * predefined "host" (engine/networks.c), so `network create -d host` is
 * refused by check, before anything exists; every other operation has
 * nothing to do and succeeds.
 */
#include "net/driver.h"

#include <errno.h>

static int host_check(struct net_network *n, struct err **err)
{
	(void)n;
	return err_set(err, EPERM, "only one instance of \"host\" network is allowed");
}

const struct net_driver net_driver_host = {
    .name = "host",
    .root_only = false,
    .needs_netns = false,
    .has_ipam = false,
    .check = host_check,
    .create = net_driver_noop,
    .remove = net_driver_noop,
    .attach = net_driver_noop_attach,
    .detach = net_driver_noop_detach,
};
