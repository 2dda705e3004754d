/*
 * net/netlink_link.c - creating links: bridges, veth pairs, macvlans and
 * VXLAN devices (see net/netlink.h).
 *
 * Runs in: the moat process and the monitor, as root for the kernel-side
 * drivers, or as root of a user namespace that owns the network namespace
 * (and, for a link created in another namespace, the one owning that).
 *
 * Invariants:
 *  - every link is created with NLM_F_CREATE | NLM_F_EXCL: an existing
 *    link of that name is never taken over or changed, the caller gets
 *    EEXIST and decides;
 *  - a link that must end up in another namespace is created there
 *    (IFLA_NET_NS_FD), never created here and moved: a name is only ever
 *    taken in the namespace it belongs to, and no half-moved link exists;
 *  - a create either succeeds completely or leaves nothing: what the
 *    kernel does in the same request it undoes itself on failure (a veth
 *    whose master is refused is unregistered with its peer); what we do
 *    after it (looking up the ifindex) is undone by deleting the link.
 */
#include "net/netlink_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/if_link.h>

/* Looks up the link NAME that the request just created; on failure
 * deletes it again so that the caller sees no half-made link. */
static int created_index(struct net_nl *nl, const char *name, const char *what, struct err **err)
{
	struct nl_link li;
	int r = nl_link_get(nl, name, 0, &li);

	if (r == 0)
		return li.ifindex;
	nl_fail(nl, r, err, "%s: look up the new link", what);
	(void)net_nl_link_del(nl, name, NULL);
	return r;
}

int net_nl_bridge_create(struct net_nl *nl, const char *name, const uint8_t *mac, struct err **err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlmsghdr *h;
	struct nlattr *info;
	char what[64];
	int r;

	r = nl_check_name(name, "create bridge", err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "create bridge \"%s\"", name);
	h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	/* A MAC given at creation is fixed: the bridge will not take a new
	 * one from its lowest-numbered port as ports come and go. */
	if (mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "%s", what);
	return created_index(nl, name, what, err);
}

int net_nl_veth_create(struct net_nl *nl, const char *host, const char *peer, int peer_netnsfd,
		       int master, const uint8_t *peer_mac, unsigned mtu, struct err **err)
{
	/* Up at creation: the kernel applies ifi_flags to the new link. */
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *info, *data, *pn;
	struct nlmsghdr *h;
	char what[96];
	int r;

	r = nl_check_name(host, "create veth", err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "create veth \"%s\"", host);
	r = nl_check_name(peer, what, err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "create veth \"%s\" (peer \"%s\")", host, peer);
	if (master < 0)
		return err_set(err, EINVAL, "%s: invalid master interface index %d", what, master);
	/* The kernel says EINVAL for a master that does not exist. */
	if (master > 0) {
		r = nl_check_index(nl, master, "master", what, err);
		if (r < 0)
			return r;
	}

	h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, host);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	/* Enslaved in the same request: if the bridge refuses the port the
	 * kernel unregisters both ends before it answers. */
	if (master)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole link description: its own ifinfomsg
	 * then its attributes. */
	pn = mnl_attr_nest_start(h, VETH_INFO_PEER);
	memcpy(mnl_nlmsg_put_extra_header(h, sizeof(peer_ifi)), &peer_ifi, sizeof(peer_ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	if (peer_netnsfd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netnsfd);
	if (peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, peer_mac);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	mnl_attr_nest_end(h, pn);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "%s", what);
	/* Deleting the host side takes the peer with it, wherever it is. */
	return created_index(nl, host, what, err);
}

static int macvlan_mode(enum net_macvlan_mode mode, uint32_t *out)
{
	switch (mode) {
	case NET_MACVLAN_BRIDGE:
		*out = MACVLAN_MODE_BRIDGE;
		return 0;
	case NET_MACVLAN_PRIVATE:
		*out = MACVLAN_MODE_PRIVATE;
		return 0;
	case NET_MACVLAN_VEPA:
		*out = MACVLAN_MODE_VEPA;
		return 0;
	case NET_MACVLAN_PASSTHRU:
		*out = MACVLAN_MODE_PASSTHRU;
		return 0;
	default:
		return -EINVAL;
	}
}

int net_nl_macvlan_create(struct net_nl *nl, const char *name, int parent,
			  enum net_macvlan_mode mode, int netnsfd, const uint8_t *mac,
			  struct err **err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *info, *data;
	struct nlmsghdr *h;
	uint32_t kmode;
	char what[64];
	int r;

	r = nl_check_name(name, "create macvlan", err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "create macvlan \"%s\"", name);
	if (macvlan_mode(mode, &kmode) < 0)
		return err_set(err, EINVAL, "%s: unknown macvlan mode %d", what, (int)mode);
	r = nl_check_index(nl, parent, "parent", what, err);
	if (r < 0)
		return r;

	h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	/* IFLA_LINK names the parent in this namespace, the one the request
	 * comes from, even though the link is created in NETNSFD's. */
	mnl_attr_put_u32(h, IFLA_LINK, (uint32_t)parent);
	if (netnsfd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netnsfd);
	if (mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	mnl_attr_put_u32(h, IFLA_MACVLAN_MODE, kmode);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "%s", what);
	return 0;
}

int net_nl_vxlan_create(struct net_nl *nl, const char *name, uint32_t vni,
			const struct net_addr *local, int dev, uint16_t dstport, struct err **err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nlattr *info, *data;
	struct nlmsghdr *h;
	char what[64];
	int r;

	r = nl_check_name(name, "create vxlan", err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "create vxlan \"%s\"", name);
	if (vni > NET_NL_VNI_MAX)
		return err_set(err, EINVAL, "%s: VNI %u is not below 2^24", what, vni);
	if (local) {
		r = nl_check_addr(local, what, err);
		if (r < 0)
			return r;
	}
	if (dev < 0)
		return err_set(err, EINVAL, "%s: invalid device index %d", what, dev);

	h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	mnl_attr_put_u32(h, IFLA_VXLAN_ID, vni);
	if (local)
		mnl_attr_put(h, local->family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
			     nl_addr_len(local), local->b);
	if (dev)
		mnl_attr_put_u32(h, IFLA_VXLAN_LINK, (uint32_t)dev);
	/* The port is big-endian on the wire (the kernel's be16). */
	mnl_attr_put_u16(h, IFLA_VXLAN_PORT, htons(dstport ? dstport : NET_NL_VXLAN_PORT));
	/* Remote MACs come from the cluster store, never from traffic: a
	 * container must not be able to redirect another's frames. */
	mnl_attr_put_u8(h, IFLA_VXLAN_LEARNING, 0);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return nl_fail(nl, r, err, "%s", what);
	return created_index(nl, name, what, err);
}
