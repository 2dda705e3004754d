/*
 * net/netlink.h - the small rtnetlink layer moat's network drivers use:
 * links (bridge, veth, macvlan, vxlan), addresses, routes, neighbours and
 * bridge FDB entries, over one NETLINK_ROUTE socket (libmnl).
 *
 * Runs in: the moat process and the monitor, as root for the kernel-side
 * drivers (or as root of a user namespace that owns the network namespace,
 * which is how the unit tests run it). Touches kernel state only through
 * the socket, which belongs to the network namespace the caller was in
 * when it called net_nl_open(): a later setns() does not move it.
 *
 * Contract of every call:
 *  - one request, sent with NLM_F_ACK; the call returns after the kernel's
 *    answer to exactly that request (sequence number and port checked;
 *    anything else on the socket is dropped);
 *  - 0 (or the value documented) on success, a negative errno on failure
 *    with *err naming the operation and the interface, followed by the
 *    kernel's extended ack text when it sent one:
 *      create bridge "moat0": File exists
 *      add route default via 10.0.0.254 dev "eth0": Network is unreachable
 *          (kernel: Nexthop has invalid gateway)
 *  - interface names are checked before anything is sent (1..IFNAMSIZ-1
 *    bytes, not "." or "..", no '/', ':' or white space: the kernel's
 *    rule), so an over-long name is EINVAL from here, never truncated;
 *  - deletions are idempotent: what is already gone is success.
 *
 * A handle is not thread-safe; use one per thread.
 */
#ifndef MOAT_NET_NETLINK_H
#define MOAT_NET_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/cidr.h"
#include "net/driver.h"

/* VXLAN's IANA port, what Linux calls the default and Docker uses. */
#define NET_NL_VXLAN_PORT 4789
/* VXLAN network identifiers are 24 bits. */
#define NET_NL_VNI_MAX 0xffffffu

struct net_nl;

/* Opens a NETLINK_ROUTE socket (close-on-exec) in the caller's current
 * network namespace, with extended and capped acks. */
int net_nl_open(struct net_nl **out, struct err **err);
void net_nl_close(struct net_nl *nl);

static inline void net_nl_closep(struct net_nl **p)
{
	if (*p)
		net_nl_close(*p);
	*p = NULL;
}
#define _cleanup_nl_ __attribute__((cleanup(net_nl_closep)))

/* NAME is a name the kernel accepts for an interface (see the top). */
bool net_nl_name_valid(const char *name);

/* ---- links ---- */

/* NAME's ifindex (> 0), or -ENODEV (with *err set) when there is none. */
int net_nl_ifindex(struct net_nl *nl, const char *name, struct err **err);
/* NAME's rtnetlink kind ("veth", "bridge", "macvlan", "vxlan", ...; ""
 * for a link without one, such as lo) into BUF. -ERANGE when it does not
 * fit in SIZE bytes. */
int net_nl_link_kind(struct net_nl *nl, const char *name, char *buf, size_t size, struct err **err);
/*
 * Calls CB once for every link of the namespace with its name, ifindex,
 * kind ("" when none) and master's ifindex (0: none). The dump is read
 * completely before the first call, so CB may use NL (delete links, say).
 * CB returns 0 to go on, > 0 to stop (net_nl_link_list returns 0), or a
 * negative errno, which stops the walk and is returned as is (CB fills
 * *ERR).
 */
int net_nl_link_list(struct net_nl *nl,
		     int (*cb)(const char *name, int ifindex, const char *kind, int master,
			       void *data, struct err **err),
		     void *data, struct err **err);
/* Deletes NAME (with a veth, its peer too). Returns 0 when there is no
 * such link. */
int net_nl_link_del(struct net_nl *nl, const char *name, struct err **err);
int net_nl_link_set_up(struct net_nl *nl, int ifindex, bool up, struct err **err);
/* Enslaves IFINDEX to MASTER (a bridge); MASTER 0 releases it. A MASTER
 * that does not exist is -ENODEV. */
int net_nl_link_set_master(struct net_nl *nl, int ifindex, int master, struct err **err);
/* Hairpin mode of the bridge port IFINDEX (IFLA_BRPORT_MODE). */
int net_nl_link_set_hairpin(struct net_nl *nl, int ifindex, bool on, struct err **err);
int net_nl_link_set_mtu(struct net_nl *nl, int ifindex, unsigned mtu, struct err **err);
int net_nl_link_set_mac(struct net_nl *nl, int ifindex, const uint8_t mac[6], struct err **err);
/* Kernels before 6.2 refuse to rename a link that is up (EBUSY). */
int net_nl_link_rename(struct net_nl *nl, int ifindex, const char *name, struct err **err);

/* ---- link creation; each returns -EEXIST (the caller decides) when the
 * name is taken where the link would be created ---- */

/* A Linux bridge, down, with MAC when not NULL (else the kernel picks one).
 * Returns its ifindex. */
int net_nl_bridge_create(struct net_nl *nl, const char *name, const uint8_t *mac, struct err **err);
/*
 * A veth pair in one request: HOST here, up, enslaved to MASTER (0: none);
 * PEER (down, with PEER_MAC when not NULL) placed directly in the network
 * namespace PEER_NETNSFD (-1: this one). MTU 0 keeps the kernel's default,
 * otherwise both sides get it. Returns the host side's ifindex. On any
 * failure no part of the pair is left in either namespace.
 */
int net_nl_veth_create(struct net_nl *nl, const char *host, const char *peer, int peer_netnsfd,
		       int master, const uint8_t *peer_mac, unsigned mtu, struct err **err);
/* A macvlan NAME (down) on PARENT (an ifindex here) in mode MODE, created
 * directly in the network namespace NETNSFD (-1: this one), with MAC when
 * not NULL. Returns 0 (its ifindex belongs to the other namespace). */
int net_nl_macvlan_create(struct net_nl *nl, const char *name, int parent,
			  enum net_macvlan_mode mode, int netnsfd, const uint8_t *mac,
			  struct err **err);
/* A VXLAN device NAME (down) for VNI (<= NET_NL_VNI_MAX) with learning off,
 * sourcing from LOCAL (NULL: unset) over DEV (0: any), on UDP port DSTPORT
 * (0: NET_NL_VXLAN_PORT). Returns its ifindex. */
int net_nl_vxlan_create(struct net_nl *nl, const char *name, uint32_t vni,
			const struct net_addr *local, int dev, uint16_t dstport, struct err **err);

/* ---- addresses ---- */

/* ADDR/PREFIX on IFINDEX (IPv4 with the broadcast address, as iproute2's
 * "brd +": none for /31 and /32). An address already there is -EEXIST. */
int net_nl_addr_add(struct net_nl *nl, int ifindex, const struct net_addr *addr, unsigned prefix,
		    struct err **err);
/* Returns 0 when IFINDEX does not have ADDR/PREFIX. */
int net_nl_addr_del(struct net_nl *nl, int ifindex, const struct net_addr *addr, unsigned prefix,
		    struct err **err);

/* ---- routes (the main table) ---- */

/* A route to DST via GW (NULL: on-link through IFINDEX). An existing route
 * is -EEXIST. */
int net_nl_route_add(struct net_nl *nl, const struct net_cidr *dst, const struct net_addr *gw,
		     int ifindex, struct err **err);
/* The default route of GW's family via GW through IFINDEX. */
int net_nl_route_add_default(struct net_nl *nl, const struct net_addr *gw, int ifindex,
			     struct err **err);
/*
 * 1 when a route of the main table of C's family, other than a default
 * route, has a destination block that overlaps C; fills IFNAME (SIZE bytes,
 * may be NULL) with its device's name ("" when the route has none, as a
 * blackhole). 0 when none does. Default routes do not count: they overlap
 * everything (Docker's rule).
 */
int net_nl_routes_overlap(struct net_nl *nl, const struct net_cidr *c, char *ifname, size_t size,
			  struct err **err);

/* ---- neighbours and bridge FDB entries ---- */

/* IP -> MAC on IFINDEX, replacing an entry for IP; PERMANENT entries never
 * expire, others start REACHABLE. */
int net_nl_neigh_add(struct net_nl *nl, int ifindex, const struct net_addr *ip,
		     const uint8_t mac[6], bool permanent, struct err **err);
/* Returns 0 when there is no entry. */
int net_nl_neigh_del(struct net_nl *nl, int ifindex, const struct net_addr *ip, struct err **err);
/*
 * A permanent FDB entry MAC -> DST on the vxlan device IFINDEX (AF_BRIDGE,
 * NTF_SELF). The all-zero and multicast MACs (flooding) collect remotes:
 * each DST is appended; a unicast MAC has one DST, replaced.
 */
int net_nl_fdb_add(struct net_nl *nl, int ifindex, const uint8_t mac[6], const struct net_addr *dst,
		   struct err **err);
/* Removes MAC -> DST (DST NULL: the whole entry). Returns 0 when absent. */
int net_nl_fdb_del(struct net_nl *nl, int ifindex, const uint8_t mac[6], const struct net_addr *dst,
		   struct err **err);

#endif
