/*
 * net/macvlan.c - the "macvlan" driver: each container gets a macvlan
 * child of a host interface (the parent, `-o parent=IF`), created directly
 * inside the container's network namespace as its eth0, with its own MAC
 * and its IPAM address, so it sits on the parent's LAN as a host of its
 * own (Docker's macvlan driver).
 *
 * Runs in: the moat process (network create/rm, and at container start,
 * where create checks the parent again) and the container's monitor
 * (attach); as root: links are made on one of the host's interfaces.
 *
 * Invariants:
 *  - a macvlan network has nothing of its own on the host: no bridge, no
 *    firewall rule, no host-side link. create only checks that the parent
 *    exists and is fit, remove and detach have nothing to do;
 *  - a child is created in one request with the container's namespace as
 *    its home (net/netlink.c), so it never exists in the host's namespace
 *    and dies with the container's: nothing is left behind by a container
 *    whose monitor was killed;
 *  - the parent is never changed (not brought up, not re-addressed): it is
 *    the host's interface, configured by its owner;
 *  - a parent that is loopback, not Ethernet, or one of moat's own bridges
 *    is refused (a macvlan on moat0 would put a container on the default
 *    bridge network behind the firewall's back).
 *
 * What the kernel decides, and users must know:
 *  - the host itself cannot talk to its macvlan containers through the
 *    parent: frames a macvlan sends to its lower device's own MAC are not
 *    delivered to the lower device, and the other way round (the kernel's
 *    rule; Docker documents the same). Other hosts on the LAN, and
 *    containers of the same network in bridge mode, can;
 *  - private mode: children of one parent cannot reach each other; vepa:
 *    only through an external switch that hairpins; passthru: one child per
 *    parent, which takes the parent's MAC (the kernel refuses a second).
 */
#include "net/driver.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "net/netlink.h"
#include "net/netrecord.h"

#define OPT_PARENT "parent"
#define OPT_MODE "macvlan_mode" /* Docker's key */
#define OPT_MODE_SHORT "mode"	/* the issue's */

/* moat's bridges (engine/networks.h): the default network's, and
 * "moat-" + hex of the id for the others. */
#define MOAT_DEFAULT_BRIDGE "moat0"
#define MOAT_BRIDGE_PREFIX "moat-"

static bool key_is(const char *o, size_t kl, const char *key)
{
	return kl == strlen(key) && !strncmp(o, key, kl);
}

static int macvlan_check(struct net_network *n, struct err **err)
{
	const char *parent = NULL, *mode = NULL, *mode_key = NULL;
	char q[80];
	int m;

	if (!n->has_pool || n->pool.subnet.addr.family != AF_INET)
		return err_set(err, EINVAL, "macvlan networks need an IPv4 subnet");
	for (size_t i = 0; n->options && n->options[i]; i++) {
		const char *o = n->options[i];
		size_t kl = strcspn(o, "=");
		const char *v = o[kl] ? o + kl + 1 : "";

		if (key_is(o, kl, OPT_PARENT)) {
			parent = v;
		} else if (key_is(o, kl, OPT_MODE) || key_is(o, kl, OPT_MODE_SHORT)) {
			if (mode)
				return err_set(err, EINVAL,
					       "macvlan driver: -o %s and -o %.*s both give the "
					       "mode: give one",
					       mode_key, (int)kl, o);
			mode = v;
			mode_key = key_is(o, kl, OPT_MODE) ? OPT_MODE : OPT_MODE_SHORT;
		} else {
			return err_set(err, EINVAL,
				       "macvlan driver: unknown option \"%s\" (known: " OPT_PARENT
				       ", " OPT_MODE ")",
				       net_shown(o, q, sizeof(q)));
		}
	}
	if (!parent)
		return err_set(err, EINVAL, "macvlan driver: -o parent=IF is required");
	if (!net_ifname_valid(parent))
		return err_set(err, EINVAL, "macvlan driver: invalid parent interface name \"%s\"",
			       net_shown(parent, q, sizeof(q)));
	m = mode ? net_macvlan_mode_parse(mode) : (int)NET_MACVLAN_BRIDGE;
	if (m < 0)
		return err_set(err, EINVAL,
			       "macvlan driver: unknown %s \"%s\" (bridge, private, vepa or "
			       "passthru)",
			       mode_key, net_shown(mode, q, sizeof(q)));
	snprintf(n->parent, sizeof(n->parent), "%s", parent);
	n->macvlan_mode = (enum net_macvlan_mode)m;
	n->bridge[0] = '\0';
	return 0;
}

/* Is the interface NAME (it exists) loopback, or not Ethernet? Asked with
 * ioctls because the kernel refuses both as a macvlan's lower device, and
 * the answer is clearer before it does. */
static int parent_type(const char *name, bool *loopback, bool *ether, struct err **err)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (fd < 0)
		return err_errno(err, errno, "socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return err_errno(err, errno, "flags of interface \"%s\"", name);
	*loopback = ifr.ifr_flags & IFF_LOOPBACK;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return err_errno(err, errno, "hardware address of interface \"%s\"", name);
	*ether = ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
	return 0;
}

/*
 * N's parent exists here and may carry macvlans; returns its ifindex. The
 * messages do not name the network: `network create` prefixes its name,
 * attach does too.
 */
static int parent_find(struct net_nl *nl, const struct net_network *n, struct err **err)
{
	char kind[32] = "";
	bool loopback = false, ether = false;
	int r;

	r = net_nl_link_kind(nl, n->parent, kind, sizeof(kind), NULL);
	if (r == -ENODEV)
		return err_set(err, ENODEV, "macvlan parent interface %s not found (-o parent=%s)",
			       n->parent, n->parent);
	if (r < 0 && r != -ERANGE)
		return err_errno(err, -r, "macvlan parent interface %s", n->parent);
	if (!strcmp(kind, "bridge") &&
	    (!strcmp(n->parent, MOAT_DEFAULT_BRIDGE) ||
	     !strncmp(n->parent, MOAT_BRIDGE_PREFIX, strlen(MOAT_BRIDGE_PREFIX))))
		return err_set(err, EINVAL,
			       "macvlan parent %s is a bridge of a moat network: use --network "
			       "with that network instead",
			       n->parent);
	if ((r = parent_type(n->parent, &loopback, &ether, err)) < 0)
		return r;
	if (loopback)
		return err_set(err, EINVAL, "macvlan parent %s is a loopback interface", n->parent);
	if (!ether)
		return err_set(err, EINVAL, "macvlan parent %s is not an Ethernet interface",
			       n->parent);
	return net_nl_ifindex(nl, n->parent, err);
}

/* Nothing to make on the host; the parent is checked, so that a bad one
 * fails `network create` and, at each start, names itself. */
static int macvlan_create(const struct net_network *n, struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	int r;

	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	r = parent_find(nl, n, err);
	return r < 0 ? r : 0;
}

static int macvlan_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
			  struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	bool passthru = n->macvlan_mode == NET_MACVLAN_PASSTHRU;
	int parent, r;

	ep->host_ifname[0] = '\0'; /* nothing on the host's side */
	if ((r = net_nl_open(&nl, err)) < 0)
		return err_prefix(err, "network %s", n->name);
	if ((parent = parent_find(nl, n, err)) < 0)
		return err_prefix(err, "network %s", n->name);
	/* passthru: the kernel gives the child the parent's MAC whatever is
	 * asked, so none is. */
	r = net_nl_macvlan_create(nl, ep->ifname, parent, n->macvlan_mode, netnsfd,
				  passthru ? NULL : ep->mac, err);
	/* The kernel's EINVAL for a second child of a passthru parent, or
	 * for a passthru child of a parent that has children, comes without
	 * a reason: say which rule it is. */
	if (r == -EINVAL && passthru)
		return err_prefix(
		    err,
		    "network %s: macvlan passthru mode takes the parent %s alone, and "
		    "it carries a macvlan already (another container's)",
		    n->name, n->parent);
	if (r == -EINVAL)
		return err_prefix(err,
				  "network %s: parent %s refused a macvlan: is it taken by a "
				  "container of a passthru macvlan network? (passthru takes its "
				  "parent alone)",
				  n->name, n->parent);
	if (r < 0)
		return err_prefix(err, "network %s", n->name);
	return 0;
}

const struct net_driver net_driver_macvlan = {
    .name = "macvlan",
    .root_only = true,
    .needs_netns = true,
    .has_ipam = true,
    .check = macvlan_check,
    .create = macvlan_create,
    /* Nothing on the host to remove; the child lives in the container's
     * namespace and dies with it. */
    .remove = net_driver_noop,
    .attach = macvlan_attach,
    .detach = net_driver_noop_detach,
};
