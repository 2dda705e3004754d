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

static int none_noop(const struct net_network *n, struct err **err)
{
	(void)n;
	(void)err;
	return 0;
}

static int none_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
		       struct err **err)
{
	(void)n;
	(void)netnsfd;
	(void)err;
	ep->host_ifname[0] = '\0';
	return 0;
}

static int none_detach(const struct net_network *n, const struct net_endpoint *ep, struct err **err)
{
	(void)n;
	(void)ep;
	(void)err;
	return 0;
}

const struct net_driver net_driver_none = {
    .name = "none",
    .root_only = false,
    .needs_netns = true,
    .has_ipam = false,
    .check = none_check,
    .create = none_noop,
    .remove = none_noop,
    .attach = none_attach,
    .detach = none_detach,
};
