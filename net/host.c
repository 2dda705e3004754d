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

static int host_noop(const struct net_network *n, struct err **err)
{
	(void)n;
	(void)err;
	return 0;
}

static int host_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
		       struct err **err)
{
	(void)n;
	(void)netnsfd;
	(void)err;
	ep->host_ifname[0] = '\0';
	return 0;
}

static int host_detach(const struct net_network *n, const struct net_endpoint *ep, struct err **err)
{
	(void)n;
	(void)ep;
	(void)err;
	return 0;
}

const struct net_driver net_driver_host = {
    .name = "host",
    .root_only = false,
    .needs_netns = false,
    .has_ipam = false,
    .check = host_check,
    .create = host_noop,
    .remove = host_noop,
    .attach = host_attach,
    .detach = host_detach,
};
