/*
 * net/netlink_addr.c - addresses, routes, neighbours and bridge FDB
 * entries over rtnetlink (see net/netlink.h).
 *
 * Runs in: the moat process and the monitor (as root for the kernel-side
 * drivers; `network create` reads routes as any user), or as root of a
 * user namespace that owns the network namespace.
 *
 * Invariants:
 *  - addresses and routes are added with NLM_F_EXCL, so an existing one is
 *    reported (EEXIST), never silently replaced;
 *  - neighbour and FDB entries are set with NLM_F_REPLACE (or APPEND for
 *    flooding entries) because the overlay driver re-applies them from
 *    the cluster store after a restart;
 *  - every delete treats "not there" as success.
 */
#include "net/netlink_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- addresses ---- */

static int check_prefix(const struct net_addr *a, unsigned prefix, const char *what,
			struct err **err)
{
	int r = nl_check_addr(a, what, err);

	if (r < 0)
		return r;
	if (prefix > (a->family == AF_INET ? 32u : 128u))
		return err_set(err, EINVAL, "%s: prefix length %u is too long for %s", what, prefix,
			       a->family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int addr_request(struct net_nl *nl, bool add, int ifindex, const struct net_addr *addr,
			unsigned prefix, struct err **err)
{
	struct ifaddrmsg ifa = {.ifa_family = (uint8_t)(addr ? addr->family : 0),
				.ifa_prefixlen = (uint8_t)prefix,
				.ifa_scope = RT_SCOPE_UNIVERSE,
				.ifa_index = (uint32_t)ifindex};
	char text[NET_ADDR_TEXT_MAX], label[NL_LABEL_MAX];
	const char *what = add ? "add address" : "delete address";
	struct nlmsghdr *h;
	int r;

	r = check_prefix(addr, prefix, what, err);
	if (r < 0)
		return r;
	if (ifindex <= 0)
		return err_set(err, EINVAL, "%s: invalid interface index %d", what, ifindex);
	h = nl_msg(nl, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL : 0, &ifa,
		   sizeof(ifa));
	mnl_attr_put(h, IFA_LOCAL, nl_addr_len(addr), addr->b);
	mnl_attr_put(h, IFA_ADDRESS, nl_addr_len(addr), addr->b);
	/* iproute2's "brd +": the block's last address, for blocks that have
	 * one (up to /30; /31 and /32 have none, RFC 3021). */
	if (add && addr->family == AF_INET && prefix <= 30) {
		uint8_t brd[4];
		uint32_t host = prefix ? 0xffffffffu >> prefix : 0xffffffffu;

		for (int i = 0; i < 4; i++)
			brd[i] = addr->b[i] | (uint8_t)(host >> (24 - 8 * i));
		mnl_attr_put(h, IFA_BROADCAST, sizeof(brd), brd);
	}
	r = nl_talk(nl, h, NULL, NULL);
	/* Deleting: the kernel says EADDRNOTAVAIL when the interface lacks the
	 * address (ENOENT on some older paths). */
	if (!add && (r == -EADDRNOTAVAIL || r == -ENOENT))
		return 0;
	if (r < 0) {
		net_addr_format(addr, text);
		return nl_fail(nl, r, err, "%s %s/%u %s %s", add ? "add address" : "delete address",
			       text, prefix, add ? "to" : "from", nl_label(nl, ifindex, label));
	}
	return 0;
}

int net_nl_addr_add(struct net_nl *nl, int ifindex, const struct net_addr *addr, unsigned prefix,
		    struct err **err)
{
	return addr_request(nl, true, ifindex, addr, prefix, err);
}

int net_nl_addr_del(struct net_nl *nl, int ifindex, const struct net_addr *addr, unsigned prefix,
		    struct err **err)
{
	return addr_request(nl, false, ifindex, addr, prefix, err);
}

/* ---- routes ---- */

int net_nl_route_add(struct net_nl *nl, const struct net_cidr *dst, const struct net_addr *gw,
		     int ifindex, struct err **err)
{
	struct rtmsg rtm = {
	    .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT, .rtm_type = RTN_UNICAST};
	char dtext[NET_CIDR_TEXT_MAX], gtext[NET_ADDR_TEXT_MAX], label[NL_LABEL_MAX];
	struct nlmsghdr *h;
	int r;

	if (!dst)
		return err_set(err, EINVAL, "add route: no destination");
	r = check_prefix(&dst->addr, dst->bits, "add route", err);
	if (r < 0)
		return r;
	if (dst->bits)
		net_cidr_format(dst, dtext);
	else
		snprintf(dtext, sizeof(dtext), "default");
	if (gw && gw->family != dst->addr.family)
		return err_set(err, EINVAL, "add route %s: gateway of another address family",
			       dtext);
	if (ifindex <= 0)
		return err_set(err, EINVAL, "add route %s: invalid interface index %d", dtext,
			       ifindex);
	rtm.rtm_family = (uint8_t)dst->addr.family;
	rtm.rtm_dst_len = (uint8_t)dst->bits;
	/* Without a gateway the destination is on the link, as iproute2's
	 * "ip route add X dev D" makes it. */
	rtm.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	h = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof(rtm));
	if (dst->bits)
		mnl_attr_put(h, RTA_DST, nl_addr_len(&dst->addr), dst->addr.b);
	if (gw)
		mnl_attr_put(h, RTA_GATEWAY, nl_addr_len(gw), gw->b);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0) {
		if (gw)
			net_addr_format(gw, gtext);
		return nl_fail(nl, r, err, "add route %s%s%s dev %s", dtext, gw ? " via " : "",
			       gw ? gtext : "", nl_label(nl, ifindex, label));
	}
	return 0;
}

int net_nl_route_add_default(struct net_nl *nl, const struct net_addr *gw, int ifindex,
			     struct err **err)
{
	struct net_cidr any = {0};
	int r;

	r = nl_check_addr(gw, "add default route: gateway", err);
	if (r < 0)
		return r;
	any.addr.family = gw->family;
	return net_nl_route_add(nl, &any, gw, ifindex, err);
}

struct overlap {
	const struct net_cidr *c;
	int found;
	int oif;
};

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= RTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* The device of a multipath route: its first next hop's. */
static int first_hop(const struct nlattr *mp)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);

	if (mnl_attr_get_payload_len(mp) < sizeof(*nh) || nh->rtnh_len < sizeof(*nh))
		return 0;
	return nh->rtnh_ifindex;
}

static int check_route(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct overlap *o = data;
	const struct rtmsg *rtm;
	struct net_cidr rc = {0};
	uint32_t table;
	size_t alen = nl_addr_len(&o->c->addr);

	if (h->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(h) < sizeof(*rtm))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(h);
	if (o->found || rtm->rtm_family != o->c->addr.family || rtm->rtm_dst_len == 0 ||
	    rtm->rtm_dst_len > alen * 8 || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	if (mnl_attr_parse(h, sizeof(*rtm), route_attr, tb) != MNL_CB_OK)
		return -EBADMSG;
	table = rtm->rtm_table;
	if (tb[RTA_TABLE]) {
		if (mnl_attr_validate(tb[RTA_TABLE], MNL_TYPE_U32) < 0)
			return -EBADMSG;
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	}
	/* The local table holds the host's own and broadcast addresses
	 * (127.0.0.0/8 among them): those are not networks a subnet can
	 * clash with. */
	if (table != RT_TABLE_MAIN || !tb[RTA_DST])
		return 0;
	if (mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return -EBADMSG;
	rc.addr.family = o->c->addr.family;
	memcpy(rc.addr.b, mnl_attr_get_payload(tb[RTA_DST]), alen);
	rc.bits = rtm->rtm_dst_len;
	if (!net_cidr_overlap(&rc, o->c))
		return 0;
	o->found = 1;
	if (tb[RTA_OIF] && mnl_attr_validate(tb[RTA_OIF], MNL_TYPE_U32) == 0)
		o->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	else if (tb[RTA_MULTIPATH])
		o->oif = first_hop(tb[RTA_MULTIPATH]);
	return 0;
}

int net_nl_routes_overlap(struct net_nl *nl, const struct net_cidr *c, char *ifname, size_t size,
			  struct err **err)
{
	struct rtmsg rtm = {0};
	struct overlap o = {.c = c};
	char text[NET_CIDR_TEXT_MAX];
	struct nl_link li;
	int r;

	if (!c)
		return err_set(err, EINVAL, "check routes: no block");
	r = check_prefix(&c->addr, c->bits, "check routes", err);
	if (r < 0)
		return r;
	net_cidr_format(c, text);
	rtm.rtm_family = (uint8_t)c->addr.family;
	r = -EAGAIN;
	for (int i = 0; i < NL_DUMP_TRIES && r == -EAGAIN; i++) {
		o.found = 0;
		o.oif = 0;
		r = nl_talk(nl, nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm)),
			    check_route, &o);
	}
	if (r < 0)
		return nl_fail(nl, r, err, "check routes overlapping %s", text);
	if (!o.found)
		return 0;
	if (ifname && size) {
		ifname[0] = 0;
		/* A device that went away since the dump leaves the name empty:
		 * the overlap itself was real. */
		if (o.oif > 0 && nl_link_get(nl, NULL, o.oif, &li) == 0 && strlen(li.name) < size)
			memcpy(ifname, li.name, strlen(li.name) + 1);
	}
	return 1;
}

/* ---- neighbours and FDB entries ---- */

static int neigh_request(struct net_nl *nl, bool add, int ifindex, const struct net_addr *ip,
			 const uint8_t *mac, bool permanent, struct err **err)
{
	struct ndmsg ndm = {.ndm_ifindex = ifindex, .ndm_type = RTN_UNICAST};
	char text[NET_ADDR_TEXT_MAX], mtext[NL_MAC_TEXT], label[NL_LABEL_MAX];
	const char *what = add ? "add neighbour" : "delete neighbour";
	struct nlmsghdr *h;
	int r;

	r = nl_check_addr(ip, what, err);
	if (r < 0)
		return r;
	if (ifindex <= 0)
		return err_set(err, EINVAL, "%s: invalid interface index %d", what, ifindex);
	if (add && !mac)
		return err_set(err, EINVAL, "%s: no MAC address", what);
	ndm.ndm_family = (uint8_t)ip->family;
	ndm.ndm_state = add ? (permanent ? NUD_PERMANENT : NUD_REACHABLE) : 0;
	h = nl_msg(nl, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
		   &ndm, sizeof(ndm));
	mnl_attr_put(h, NDA_DST, nl_addr_len(ip), ip->b);
	if (add)
		mnl_attr_put(h, NDA_LLADDR, 6, mac);
	r = nl_talk(nl, h, NULL, NULL);
	if (!add && r == -ENOENT)
		return 0;
	if (r < 0) {
		net_addr_format(ip, text);
		if (add) {
			nl_mac_format(mac, mtext);
			return nl_fail(nl, r, err, "add neighbour %s lladdr %s on %s", text, mtext,
				       nl_label(nl, ifindex, label));
		}
		return nl_fail(nl, r, err, "delete neighbour %s on %s", text,
			       nl_label(nl, ifindex, label));
	}
	return 0;
}

int net_nl_neigh_add(struct net_nl *nl, int ifindex, const struct net_addr *ip,
		     const uint8_t mac[6], bool permanent, struct err **err)
{
	return neigh_request(nl, true, ifindex, ip, mac, permanent, err);
}

int net_nl_neigh_del(struct net_nl *nl, int ifindex, const struct net_addr *ip, struct err **err)
{
	return neigh_request(nl, false, ifindex, ip, NULL, false, err);
}

static int fdb_request(struct net_nl *nl, bool add, int ifindex, const uint8_t *mac,
		       const struct net_addr *dst, struct err **err)
{
	struct ndmsg ndm = {.ndm_family = AF_BRIDGE,
			    .ndm_ifindex = ifindex,
			    .ndm_state = NUD_PERMANENT,
			    .ndm_flags = NTF_SELF};
	char text[NET_ADDR_TEXT_MAX], mtext[NL_MAC_TEXT], label[NL_LABEL_MAX];
	const char *what = add ? "add FDB entry" : "delete FDB entry";
	uint16_t flags = 0;
	struct nlmsghdr *h;
	int r;

	if (!mac)
		return err_set(err, EINVAL, "%s: no MAC address", what);
	if ((add || dst) && (r = nl_check_addr(dst, what, err)) < 0)
		return r;
	if (ifindex <= 0)
		return err_set(err, EINVAL, "%s: invalid interface index %d", what, ifindex);
	if (add) {
		static const uint8_t zero[6];
		/* The all-zero MAC and multicast MACs are flooded to every
		 * remote of their entry (the kernel appends remotes only for
		 * those); a unicast MAC lives behind exactly one remote. */
		bool flood = !memcmp(mac, zero, 6) || (mac[0] & 1);

		flags = NLM_F_CREATE | (flood ? NLM_F_APPEND : NLM_F_REPLACE);
	}
	h = nl_msg(nl, add ? RTM_NEWNEIGH : RTM_DELNEIGH, flags, &ndm, sizeof(ndm));
	mnl_attr_put(h, NDA_LLADDR, 6, mac);
	if (dst)
		mnl_attr_put(h, NDA_DST, nl_addr_len(dst), dst->b);
	r = nl_talk(nl, h, NULL, NULL);
	if (!add && r == -ENOENT)
		return 0;
	if (r < 0) {
		nl_mac_format(mac, mtext);
		if (dst)
			net_addr_format(dst, text);
		return nl_fail(nl, r, err, "%s %s%s%s on %s", what, mtext, dst ? " dst " : "",
			       dst ? text : "", nl_label(nl, ifindex, label));
	}
	return 0;
}

int net_nl_fdb_add(struct net_nl *nl, int ifindex, const uint8_t mac[6], const struct net_addr *dst,
		   struct err **err)
{
	return fdb_request(nl, true, ifindex, mac, dst, err);
}

int net_nl_fdb_del(struct net_nl *nl, int ifindex, const uint8_t mac[6], const struct net_addr *dst,
		   struct err **err)
{
	return fdb_request(nl, false, ifindex, mac, dst, err);
}
