/*
 * net/nft.h - moat's nftables table, `inet moat`: masquerade for bridge
 * networks, isolation between them, --internal networks, and published
 * ports (DNAT).
 *
 * Runs in: the moat process and a container's monitor, as root (or as the
 * root of a user namespace that owns the network namespace, in tests), in
 * the network namespace whose firewall it changes. libnftables is loaded
 * with dlopen("libnftables.so.1") on first use (Debian's libnftables1).
 *
 * Invariants:
 *  - moat touches no table but `inet moat`; everything it adds lives there;
 *  - every mutating call is ONE libnftables batch, which the kernel commits
 *    whole or not at all: a failed call leaves the table as it found it;
 *  - no text from a caller reaches a command unchecked: bridge names and
 *    owners are checked against [A-Za-z0-9_.-] and a length before any
 *    command is built (EINVAL otherwise), addresses are formatted from
 *    struct net_addr, ports are numbers; what is read back from a listing is
 *    parsed and checked the same way before it is used in a command;
 *  - removal is idempotent: what is already gone is success.
 *
 * The table (`moat` below is the table; base chains only hold fixed rules,
 * which net_nft_ensure rebuilds):
 *
 *   set bridges  { ifname }            every moat bridge
 *   set internal { ifname }            the --internal ones
 *   set self     { ifname . ifname }   "BR" . "BR" for every bridge
 *   map nat4 / nat6 { subnet : jump net-BR }   (interval maps)
 *   chain net-BR        one per non-internal network (its masquerade)
 *   chain ports-dnat    DNAT rules of published ports   } comment
 *   chain ports-fwd     their accepts through isolation } "ctr:<owner>"
 *   chain guard   (filter, -300):   iifname @bridges ip daddr 127.0.0.0/8 drop,
 *                                   ip6 daddr ::1 likewise (CVE-2020-8558:
 *                                   route_localnet must not open the host's
 *                                   loopback services to containers)
 *   chain input   (filter, 0):      iifname @internal drop (the host is
 *                                   not reachable from an internal network)
 *   chain prerouting  (nat, -100):  jump ports-dnat
 *   chain output      (nat, -100):  jump ports-dnat
 *   chain postrouting (nat, 100):   ip saddr 127.0.0.0/8 oifname @bridges masquerade
 *                                   ip saddr vmap @nat4; ip6 saddr vmap @nat6
 *   chain forward  (filter, 0):     iifname . oifname @self accept
 *                                   iifname @internal drop; oifname @internal drop
 *                                   ct state established,related accept
 *                                   jump ports-fwd
 *                                   iifname @bridges oifname @bridges drop
 *
 * Networks: each network's rules are in its own chain net-BR (rules
 * commented "net:BR"), reached through the nat4/nat6 verdict maps keyed on
 * its subnet, and its bridge name is an element of the sets above. Why a
 * chain per network rather than rules found by handle: adding a network is
 * then "flush its chain, refill it", which two moat processes starting
 * containers on the same network can do at once without leaving duplicate
 * rules; the forward rules need no per-network rule at all. The maps are
 * keyed on the source address because postrouting does not know the input
 * interface (iifname is empty there), so the masquerade cannot be chosen by
 * bridge.
 *
 * Published ports: rules in ports-dnat and ports-fwd carrying the comment
 * "ctr:<owner>", removed by handle after a JSON listing (a per-owner chain
 * would still need a jump rule per owner, removed by handle all the same).
 * Adding an owner's ports replaces the ones it had, in the same batch.
 *
 * What the caller must do besides (the bridge driver's part):
 *  - net.ipv4.ip_forward=1 (and IPv6 forwarding for IPv6 networks);
 *  - net.ipv4.conf.<bridge>.route_localnet=1 for ports published on
 *    127.0.0.1 or on every address to be reachable from the host through
 *    127.0.0.1 (the output DNAT sends a packet from 127.0.0.1 out of the
 *    bridge, which the kernel drops as martian without it; this table then
 *    masquerades it to the bridge's address);
 *  - hairpin mode on each container's bridge port (IFLA_BRPORT_MODE), so
 *    that a container reaches ITS OWN published port through a host
 *    address: the DNAT sends the packet back out of the port it came in by.
 *    Other containers of the network reach it without (the masquerade of
 *    net-BR makes their replies come back through the host).
 * IPv6 published ports are not reachable through ::1 (IPv6 has no
 * route_localnet); every other address works.
 */
#ifndef MOAT_NET_NFT_H
#define MOAT_NET_NFT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/cidr.h"
#include "net/portspec.h"

/* An owner is a container id: up to 64 characters of [A-Za-z0-9_.-]. */
#define NET_NFT_OWNER_MAX 64
/* One call publishes at most this many ports (a -p range expands to
 * 65,536 bindings at most, see net/portspec.h). */
#define NET_NFT_PORTS_MAX 65536

struct net_nft_net {
	char bridge[IFNAMSIZ]; /* the Linux bridge, [A-Za-z0-9_.-]{1,15} */
	struct net_cidr subnet;
	bool internal; /* no masquerade; nothing forwarded in or out */
};

struct net_nft_port {
	int family;		  /* AF_INET or AF_INET6 */
	struct net_addr host_ip;  /* family 0, or the unspecified address
				   * (0.0.0.0, ::): every local address */
	uint16_t host_port;	  /* 1..65535 */
	enum net_proto proto;	  /* tcp, udp, sctp */
	struct net_addr ctr_addr; /* of FAMILY */
	uint16_t ctr_port;	  /* 1..65535 */
	char bridge[IFNAMSIZ];	  /* the container's network's bridge */
};

enum net_nft_kind {
	NET_NFT_NETWORK,   /* NAME is a bridge */
	NET_NFT_CONTAINER, /* NAME is an owner */
};

/*
 * Creates the table, its sets, maps and chains when missing and rewrites
 * the fixed rules of the base chains (one batch: safe to run any number of
 * times, from several processes at once). Call before the others.
 */
int net_nft_ensure(struct err **err);

/*
 * Adds (or brings back to N's definition) the network of bridge
 * N->bridge: not internal, a masquerade of N->subnet leaving through any
 * other interface and of published-port traffic coming back into the
 * bridge (hairpin); internal, nothing forwarded between the bridge and any
 * other interface. Both: isolated from every other moat bridge.
 */
int net_nft_network_add(const struct net_nft_net *n, struct err **err);
/* Removes everything of the network of BRIDGE (success when there is
 * nothing, or no table). Published ports are their owners'. */
int net_nft_network_del(const char *bridge, struct err **err);

/*
 * Publishes PORTS[0..N) for OWNER, replacing every port OWNER had (N == 0
 * leaves it none): DNAT from anywhere (other hosts, containers of any
 * network, the host itself) to the host address and port, and an accept
 * of that DNAT'd traffic through isolation. All or nothing.
 */
int net_nft_ports_add(const char *owner, const struct net_nft_port *ports, size_t n,
		      struct err **err);
/* Removes every port of OWNER (success when there is none, or no table). */
int net_nft_ports_del(const char *owner, struct err **err);

/*
 * Calls FN once for every network (bridge) and every owner that has
 * something in the table, for crash cleanup. A negative return from FN
 * stops the walk and is returned. No table: no call, success.
 */
int net_nft_list_owners(int (*fn)(enum net_nft_kind kind, const char *name, void *data), void *data,
			struct err **err);

/* The table as `nft list table inet moat` prints it, in *TEXT (the
 * caller's to free); "" when there is no table. For `moat info` and tests. */
int net_nft_dump(char **text, struct err **err);

/* Loads libnftables now (the calls above do it on first use); the error
 * names the missing library and its Debian package. */
int net_nft_load(struct err **err);

/* NAME is a usable bridge name / owner (the checks of every call above). */
bool net_nft_bridge_valid(const char *name);
bool net_nft_owner_valid(const char *owner);

#endif
