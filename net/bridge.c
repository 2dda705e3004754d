/*
 * net/bridge.c - the "bridge" driver: a Linux bridge per network in the
 * host's network namespace, a veth pair per container, NAT and isolation
 * in moat's own nftables table (net/nft.c).
 *
 * Runs in: the moat process (network create/rm, and at container start
 * to bring a network back after a reboot) and the container's monitor
 * (attach, detach); as root: the host's network namespace is changed.
 *
 * Invariants:
 *  - a bridge of a moat network is named by its record (moat0 for the
 *    default network, moat-<10 hex of the id> otherwise); create refuses
 *    an existing interface of that name that is not a bridge (a name
 *    collision with a host interface), and otherwise takes it over;
 *  - the bridge has the gateway address (not on --internal networks:
 *    there the host is not reachable either); forwarding is switched on
 *    for networks that route out;
 *  - each step of create is undone when a later one fails; remove and
 *    detach are idempotent;
 *  - a container's veth is created in one request with its peer already
 *    in the container's namespace (net/netlink.c), so no half-made pair
 *    sits in the host's namespace; the peer dies with that namespace.
 */
#include "net/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "net/netlink.h"
#include "net/nft.h"

#define BRIDGE_NAME_OPT "com.docker.network.bridge.name"

static int write_sysctl(const char *path, const char *val, struct err **err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || fs_write_all(fd, val, strlen(val)) < 0)
		return err_errno(err, errno, "sysctl %s=%s", path, val);
	return 0;
}

static int bridge_check(struct net_network *n, struct err **err)
{
	if (!n->has_pool || n->pool.subnet.addr.family != AF_INET)
		return err_set(err, EINVAL, "bridge networks need an IPv4 subnet");
	for (size_t i = 0; n->options && n->options[i]; i++) {
		const char *o = n->options[i];
		size_t kl = strcspn(o, "=");

		if (kl == strlen(BRIDGE_NAME_OPT) && !strncmp(o, BRIDGE_NAME_OPT, kl)) {
			const char *v = o + kl + 1;

			if (!net_nl_name_valid(v))
				return err_set(err, EINVAL, "invalid bridge name \"%.32s\"", v);
			snprintf(n->bridge, sizeof(n->bridge), "%s", v);
			continue;
		}
		return err_set(err, EINVAL, "bridge driver: unknown option \"%.*s\"", (int)kl, o);
	}
	if (!net_nl_name_valid(n->bridge))
		return err_set(err, EINVAL, "invalid bridge name \"%.32s\"", n->bridge);
	return 0;
}

static void nft_net(const struct net_network *n, struct net_nft_net *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->bridge, sizeof(out->bridge), "%s", n->bridge);
	out->subnet = n->pool.subnet;
	out->internal = n->internal;
}

/* NAME exists, is a bridge and is up. */
static bool check_up(struct net_nl *nl, const char *name)
{
	char kind[32];
	struct ifreq ifr = {0};
	_cleanup_close_ int s = -1;

	if (net_nl_link_kind(nl, name, kind, sizeof(kind), NULL) < 0 || strcmp(kind, "bridge"))
		return false;
	/* The flags of this network namespace's link (sysfs may be
	 * another namespace's). */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return false;
	return ifr.ifr_flags & IFF_UP;
}

static int bridge_create(const struct net_network *n, struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	struct net_nft_net nn;
	char kind[32], path[128];
	bool made = false;
	int idx, r;

	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	/* At every container start: a bridge that is there and up was made
	 * by this function since the last boot, with its rules (a reboot
	 * removes both). Not loading libnftables then saves most of the
	 * start's cost. */
	if (check_up(nl, n->bridge))
		return 0;
	r = net_nl_link_kind(nl, n->bridge, kind, sizeof(kind), NULL);
	if (r == 0 && strcmp(kind, "bridge") != 0)
		return err_set(err, EEXIST,
			       "network %s: a host interface named %s exists and is not a bridge "
			       "(%s)",
			       n->name, n->bridge, kind[0] ? kind : "no kind");
	if (r < 0) {
		if ((r = net_nl_bridge_create(nl, n->bridge, NULL, err)) < 0)
			return r;
		made = true;
	}
	if ((idx = net_nl_ifindex(nl, n->bridge, err)) < 0) {
		r = idx;
		goto undo;
	}
	if (!n->internal && n->pool.has_gateway) {
		r = net_nl_addr_add(nl, idx, &n->pool.gateway, n->pool.subnet.bits, err);
		if (r == -EEXIST) {
			err_free(err);
			r = 0;
		}
		if (r < 0)
			goto undo;
	}
	if ((r = net_nl_link_set_up(nl, idx, true, err)) < 0)
		goto undo;
	/* Published on 127.0.0.1: DNAT from the host's loopback to the
	 * bridge needs route_localnet there; net/nft.c drops what arrives
	 * from elsewhere for 127.0.0.0/8 (CVE-2020-8558). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
	if (!n->internal && ((r = write_sysctl(path, "1", err)) < 0 ||
			     (r = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err)) < 0))
		goto undo;
	nft_net(n, &nn);
	if ((r = net_nft_ensure(err)) < 0 || (r = net_nft_network_add(&nn, err)) < 0)
		goto undo;
	return 0;
undo:
	if (made)
		net_nl_link_del(nl, n->bridge, NULL);
	return r;
}

static int bridge_remove(const struct net_network *n, struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	int r;

	if ((r = net_nft_network_del(n->bridge, err)) < 0)
		return r;
	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	return net_nl_link_del(nl, n->bridge, err);
}

/* "veth" and 11 hex digits of the container id: unique while the id's
 * prefix is, and under IFNAMSIZ. */
static void host_ifname(const struct net_endpoint *ep, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "veth%.11s", ep->container_id);
}

static int bridge_attach(const struct net_network *n, struct net_endpoint *ep, int netnsfd,
			 struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	int master, r;

	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	if ((master = net_nl_ifindex(nl, n->bridge, err)) < 0)
		return err_prefix(err, "network %s", n->name);
	host_ifname(ep, ep->host_ifname);
	/* A pair left by a container whose monitor was killed before its
	 * namespace died (the same id is the same container). */
	net_nl_link_del(nl, ep->host_ifname, NULL);
	r = net_nl_veth_create(nl, ep->host_ifname, ep->ifname, netnsfd, master, ep->mac, 0, err);
	if (r < 0) {
		ep->host_ifname[0] = 0;
		return r;
	}
	/* r is the host side's ifindex. Hairpin: the container reaches its
	 * own published ports through a host address. */
	if ((r = net_nl_link_set_hairpin(nl, r, true, err)) < 0) {
		net_nl_link_del(nl, ep->host_ifname, NULL);
		ep->host_ifname[0] = 0;
		return r;
	}
	return 0;
}

static int bridge_detach(const struct net_network *n, const struct net_endpoint *ep,
			 struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	int r;

	(void)n;
	if (!ep->host_ifname[0])
		return 0;
	if ((r = net_nl_open(&nl, err)) < 0)
		return r;
	return net_nl_link_del(nl, ep->host_ifname, err);
}

const struct net_driver net_driver_bridge = {
    .name = "bridge",
    .root_only = true,
    .needs_netns = true,
    .has_ipam = true,
    .routes_subnet = true,
    .check = bridge_check,
    .create = bridge_create,
    .remove = bridge_remove,
    .attach = bridge_attach,
    .detach = bridge_detach,
};
